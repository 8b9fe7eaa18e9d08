import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGoEnums } from '../../../scripts/kube-openapi/go-enums';

/** A Go module laid out like k8s.io/api: enum types, constants, and structs using them across packages. */
function goModule(): string {
  const root = mkdtempSync(join(tmpdir(), 'go-enums-'));
  const file = (path: string, text: string): void => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  file('go.mod', '// This is a generated file. Do not edit directly.\n\nmodule k8s.io/api\n');
  file(
    'core/v1/types.go',
    `package v1

// PullPolicy describes a policy for if/when to pull a container image
// +enum
type PullPolicy string

const (
	// PullAlways means that kubelet always attempts to pull the latest image.
	PullAlways PullPolicy = "Always"
	// PullNever means that kubelet never pulls an image,
	// but only uses a local image.
	PullNever PullPolicy = "Never"
	PullIfNotPresent PullPolicy = "IfNotPresent"
)

// Not an enum: no +enum tag.
type Phase string

const PhaseRunning Phase = "Running"

// +enum
type AccessMode string

const (
	ReadWriteOnce AccessMode = "ReadWriteOnce"
	// ReadOnlyMany can be mounted read-only by many nodes
	ReadOnlyMany AccessMode = "ReadOnlyMany"
)

type ContainerCommon struct {
	// Image pull policy.
	ImagePullPolicy PullPolicy \`json:"imagePullPolicy,omitempty" protobuf:"bytes,14,opt"\`
}

type EphemeralContainer struct {
	ContainerCommon \`json:",inline" protobuf:"bytes,1,req"\`
}

type Spec struct {
	Policy *PullPolicy \`json:"policy,omitempty"\`
	Modes []AccessMode \`json:"modes,omitempty"\`
	ByName map[string]AccessMode \`json:"byName,omitempty"\`
	Phase Phase \`json:"phase,omitempty"\`
	// Cut here.
	// ---
	// TODO: not described.
	Cut PullPolicy \`json:"cut,omitempty"\`
}
`,
  );
  file(
    'apps/v1/types.go',
    `package v1

import (
	corev1 "k8s.io/api/core/v1"
)

type Other struct {
	Pull corev1.PullPolicy \`json:"pull"\`
}
`,
  );
  return root;
}

describe('readGoEnums (the enums a 1.32 server publishes, read as openapi-gen reads them)', () => {
  let root = '';
  beforeAll(() => {
    root = goModule();
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.each([
    ['io.k8s.api.core.v1.ContainerCommon', 'imagePullPolicy', 'scalar', ['Always', 'IfNotPresent', 'Never']],
    ['io.k8s.api.core.v1.EphemeralContainer', 'imagePullPolicy', 'scalar', ['Always', 'IfNotPresent', 'Never']],
    ['io.k8s.api.core.v1.Spec', 'policy', 'scalar', ['Always', 'IfNotPresent', 'Never']],
    ['io.k8s.api.core.v1.Spec', 'modes', 'items', ['ReadOnlyMany', 'ReadWriteOnce']],
    ['io.k8s.api.core.v1.Spec', 'byName', 'additionalProperties', ['ReadOnlyMany', 'ReadWriteOnce']],
    ['io.k8s.api.apps.v1.Other', 'pull', 'scalar', ['Always', 'IfNotPresent', 'Never']],
  ])('%s.%s: %s enum', (definition, field, shape, values) => {
    const found = readGoEnums([root]).get(definition)?.get(field);
    expect(found).toMatchObject({ shape, values });
  });

  it('describes each value from its constant’s comment, less the constant’s name, sorted', () => {
    const field = readGoEnums([root]).get('io.k8s.api.core.v1.Spec')?.get('policy');
    expect(field?.descriptionLines).toEqual([
      'Possible enum values:',
      ' - `"Always"` means that kubelet always attempts to pull the latest image.',
      ' - `"IfNotPresent"`',
      ' - `"Never"` means that kubelet never pulls an image, but only uses a local image.',
    ]);
    expect(field?.descriptionCut).toBe(false);
  });

  it('leaves out types without +enum, and marks a field whose comment openapi-gen cuts at ---', () => {
    const spec = readGoEnums([root]).get('io.k8s.api.core.v1.Spec');
    expect(spec?.has('phase')).toBe(false);
    expect(spec?.get('cut')?.descriptionCut).toBe(true);
  });
});
