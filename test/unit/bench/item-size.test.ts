import {
  GSI1,
  indexWriteUnits,
  itemSize,
  sizesByKind,
  writeUnitsOf,
  type IndexShape,
} from '../../../bench/support/item-size';
import { itemKind } from '../../../bench/support/item-kind';

/**
 * Worked by hand from the rules of AWS's developer guide, "DynamoDB item sizes and formats": a string is its name's
 * and its value's UTF-8 bytes; a number its name + 1 byte per two significant digits (leading and trailing zeros
 * trimmed) + 1; a boolean or null its name + 1; a list or map its name + 3 + 1 per element + its elements; a binary
 * its raw bytes. A write unit covers an item of up to 1 KiB (a 1,500-byte item takes 2).
 */
describe('DynamoDB item size', () => {
  it('counts a string as its name and value in UTF-8 bytes', () => {
    expect(itemSize({ pk: { S: 'OBJ#a' } })).toBe(2 + 5);
    // 'é' is two bytes in UTF-8, '€' three.
    expect(itemSize({ né: { S: '€' } })).toBe(3 + 3);
  });

  it('counts a number by its significant digits, zeros at either end trimmed', () => {
    // "2099": 4 digits → 2 bytes + 1.
    expect(itemSize({ expiresAt: { N: '2099' } })).toBe(9 + 3);
    // "100" is one significant digit; "0.00123" three; "12345" five → 3 bytes.
    expect(itemSize({ n: { N: '100' } })).toBe(1 + 2);
    expect(itemSize({ n: { N: '0.00123' } })).toBe(1 + 3);
    expect(itemSize({ n: { N: '12345' } })).toBe(1 + 4);
  });

  it('counts booleans, nulls and binaries', () => {
    expect(itemSize({ ok: { BOOL: true }, gone: { NULL: true } })).toBe(2 + 1 + 4 + 1);
    expect(itemSize({ b: { B: new Uint8Array([1, 2, 3]) } })).toBe(1 + 3);
  });

  it('gives a list or map 3 bytes, 1 per element, and its elements (a map element with its name)', () => {
    expect(itemSize({ m: { M: {} } })).toBe(1 + 3);
    expect(itemSize({ l: { L: [{ S: 'ab' }, { N: '7' }] } })).toBe(1 + 3 + (1 + 2) + (1 + 2));
    // ref: { kind: 'Deployment', ns: 'x' } → 3 + 2 elements + (4 + 10) + (2 + 1).
    expect(itemSize({ ref: { M: { kind: { S: 'Deployment' }, ns: { S: 'x' } } } })).toBe(3 + 3 + 2 + 14 + 3);
  });

  it('sizes the guide-style item of eight attributes to 141 bytes', () => {
    const item = {
      itemType: { S: 'SLOT' }, // 8 + 4
      id: { S: 'abc1231' }, // 2 + 7
      hostName: { S: 'Harry Mason' }, // 8 + 11
      timeSlot: { S: 'February 23, 1999' }, // 8 + 17
      slotStatus: { S: 'OPEN' }, // 10 + 4
      createdAt: { S: 'February 1, 1999' }, // 9 + 16
      updatedAt: { S: 'February 1, 1999' }, // 9 + 16
      expiresAt: { N: '2099' }, // 9 + 3
    };
    expect(itemSize(item)).toBe(141);
  });

  it('bills 1 write unit per KiB started, at least 1', () => {
    expect(writeUnitsOf(0)).toBe(1);
    expect(writeUnitsOf(1024)).toBe(1);
    expect(writeUnitsOf(1025)).toBe(2);
    expect(writeUnitsOf(1500)).toBe(2);
  });

  it('groups items by the sort key prefix the request counter uses, with mean units per write', () => {
    const sync = (pad: number) => ({ pk: { S: 'OBJ#a' }, sk: { S: 'SYNC#c1' }, x: { S: 'y'.repeat(pad) } });
    // 2 + 5 + 2 + 7 + 1 + pad: 17 + pad bytes (117 and 1,117: mean 617).
    const sizes = sizesByKind([
      sync(100),
      sync(1100),
      { pk: { S: 'RECOVERY#2026-12-06' }, sk: { S: '2026-12-06T19:44:46.529Z#ab12cd34' } },
    ]);
    expect(Object.keys(sizes)).toEqual(['OTHER', 'SYNC']);
    expect(sizes.SYNC).toMatchObject({
      count: 2,
      meanBytes: 617,
      maxBytes: 1117,
      overOneKiB: 0.5,
      unitsPerWrite: 1.5,
      gsi1UnitsPerWrite: 0,
      onGsi1: 0,
    });
    expect(sizes.SYNC.attributes).toEqual({ x: 601, sk: 9, pk: 7 });
    expect(itemKind('STATUS#c1')).toBe('STATUS');
    expect(itemKind('a1b2-uuid')).toBe('OTHER');
    expect(itemKind('HEALTH', 'COMPONENT#ingress')).toBe('COMPONENT');
    expect(itemKind('HEALTH', 'CLUSTER#east')).toBe('HEALTH');
  });

  describe('gsi1 write units (the developer guide, "Global secondary indexes": writes)', () => {
    const item = (gsi1pk: string | undefined, pad: number) => ({
      pk: { S: 'OBJ#a' },
      sk: { S: 'DECISION' },
      ...(gsi1pk === undefined ? {} : { gsi1pk: { S: gsi1pk }, gsi1sk: { S: 'a' } }),
      x: { S: 'y'.repeat(pad) },
    });
    // pk 7 + sk 10 + gsi1pk 9 + gsi1sk 7 + x 1 + pad: 34 + pad bytes (1,134 with pad 1,100: 2 units).
    const big = (gsi1pk: string | undefined) => item(gsi1pk, 1100);

    it('reads the index from the table definition: gsi1pk / gsi1sk, every attribute projected', () => {
      expect(GSI1).toEqual({ keys: ['gsi1pk', 'gsi1sk'], tableKeys: ['pk', 'sk'], projection: 'ALL' });
      expect(itemSize(big('W#w'))).toBe(1134);
    });

    it('costs nothing extra for an item without the index keys, before and after', () => {
      expect(indexWriteUnits(undefined, big(undefined), GSI1)).toBe(0);
      expect(indexWriteUnits(big(undefined), item(undefined, 5), GSI1)).toBe(0);
      expect(indexWriteUnits(big(undefined), undefined, GSI1)).toBe(0);
    });

    it('bills a put, an update and a delete of an indexed item by its projected size, at least 1 unit', () => {
      expect(indexWriteUnits(undefined, big('W#w'), GSI1)).toBe(2);
      expect(indexWriteUnits(undefined, item('W#w', 10), GSI1)).toBe(1);
      // An update keeping the keys: one write of the larger entry.
      expect(indexWriteUnits(item('W#w', 10), big('W#w'), GSI1)).toBe(2);
      expect(indexWriteUnits(big('W#w'), undefined, GSI1)).toBe(2);
      // Entering the index (keys added) is a put; leaving it (keys removed) a delete of the old entry.
      expect(indexWriteUnits(big(undefined), big('W#w'), GSI1)).toBe(2);
      expect(indexWriteUnits(big('W#w'), item(undefined, 10), GSI1)).toBe(2);
    });

    it('costs a delete plus a put when an index key changes', () => {
      expect(indexWriteUnits(big('W#w'), big('W#v'), GSI1)).toBe(4);
      expect(indexWriteUnits(item('W#w', 10), big('W#v'), GSI1)).toBe(1 + 2);
    });

    it('projects only the keys and the included attributes of a narrower index', () => {
      const narrow: IndexShape = { ...GSI1, projection: ['v'] };
      const withV = (v: string, pad: number) => ({ ...big('W#w'), x: { S: 'y'.repeat(pad) }, v: { S: v } });
      // Entry: pk 7 + sk 10 + gsi1pk 9 + gsi1sk 7 + v 2 = 35 bytes whatever x holds: 1 unit.
      expect(indexWriteUnits(undefined, withV('1', 1100), narrow)).toBe(1);
      // x is not projected: an update of x alone does not write the index; one of v does.
      expect(indexWriteUnits(withV('1', 10), withV('1', 1100), narrow)).toBe(0);
      expect(indexWriteUnits(withV('1', 10), withV('2', 10), narrow)).toBe(1);
      expect(indexWriteUnits(withV('1', 1100), withV('1', 1100), { ...GSI1, projection: [] })).toBe(0);
    });

    it('gives each kind its mean gsi1 units per write and its share on gsi1', () => {
      const sizes = sizesByKind([big('W#w'), item('W#w', 10), big(undefined), item(undefined, 10)]);
      expect(sizes.DECISION).toMatchObject({ count: 4, unitsPerWrite: 1.5, gsi1UnitsPerWrite: 0.75, onGsi1: 0.5 });
    });
  });
});
