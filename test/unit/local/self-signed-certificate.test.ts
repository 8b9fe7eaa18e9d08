import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { selfSignedCertificate } from '../../../lib/local/self-signed-certificate';

describe('selfSignedCertificate', () => {
  // A random serial starts with 0x00 about once in 256 certificates; DER then needs the zero dropped.
  it.each([
    ['a leading zero byte', Buffer.from([0x00, 0x01, 0x02, 0x03])],
    ['several leading zero bytes', Buffer.from([0x00, 0x00, 0x7f, 0x10])],
    ['a high first bit', Buffer.from([0x80, 0x01])],
    ['a zero byte before a high bit', Buffer.from([0x00, 0x80, 0x01])],
  ])('makes a certificate TLS accepts for a serial with %s', (_what, serial) => {
    const cert = selfSignedCertificate({ serial });
    expect(() => createSecureContext({ key: cert.keyPem, cert: cert.certPem })).not.toThrow();
    const parsed = new X509Certificate(cert.certPem);
    expect(parsed.subjectAltName).toContain('DNS:localhost');
    expect(BigInt(`0x${parsed.serialNumber}`)).toBe(BigInt(`0x${serial.toString('hex')}`));
  });
});
