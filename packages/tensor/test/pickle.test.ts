/**
 * The restricted unpickler against pickles written by CPython's own `pickle.dumps` (hex literals
 * below, protocols 0–5), plus the refusals: unknown globals, calls, instance creation.
 */
import { describe, expect, it } from 'vitest';
import { isPickleTuple, PickleGlobal, unpickle, UnpicklingError } from '../src/io/pickle.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));

/**
 * `pickle.dumps(obj, protocol=p)` for p = 0..5 of
 * `{'a': [1, -2, 3.5, None, True, False, 'é€', (1, 2), 2**70, -2**70, 300, 70000, -1, 2**40, -0.25],
 *   'b': {'k': ()}, 'shared': (lst, lst)}` with `lst = [1, 2]`.
 */
const SAME_OBJECT_BY_PROTOCOL = [
  '286470300a56610a70310a286c70320a49310a61492d320a6146332e350a614e614930310a614930300a6156e95c75323061630a70330a612849310a49320a7470340a614c313138303539313632303731373431313330333432344c0a614c2d313138303539313632303731373431313330333432344c0a61493330300a614937303030300a61492d310a614c313039393531313632373737364c0a61462d302e32350a617356620a70350a286470360a566b0a70370a28747373567368617265640a70380a28286c70390a49310a6149320a6167390a747031300a732e',
  '7d71002858010000006171015d7102284b014afeffffff47400c0000000000004e4930310a4930300a5805000000c3a9e282ac7103284b014b027471044c313138303539313632303731373431313330333432344c0a4c2d313138303539313632303731373431313330333432344c0a4d2c014a701101004affffffff4c313039393531313632373737364c0a47bfd00000000000006558010000006271057d710658010000006b7107297358060000007368617265647108285d7109284b014b0265680974710a752e',
  '80027d71002858010000006171015d7102284b014afeffffff47400c0000000000004e88895805000000c3a9e282ac71034b014b028671048a090000000000000000408a090000000000000000c04d2c014a701101004affffffff8a0600000000000147bfd00000000000006558010000006271057d710658010000006b71072973580600000073686172656471085d7109284b014b0265680986710a752e',
  '80037d71002858010000006171015d7102284b014afeffffff47400c0000000000004e88895805000000c3a9e282ac71034b014b028671048a090000000000000000408a090000000000000000c04d2c014a701101004affffffff8a0600000000000147bfd00000000000006558010000006271057d710658010000006b71072973580600000073686172656471085d7109284b014b0265680986710a752e',
  '80049583000000000000007d94288c0161945d94284b014afeffffff47400c0000000000004e88898c05c3a9e282ac944b014b0286948a090000000000000000408a090000000000000000c04d2c014a701101004affffffff8a0600000000000147bfd0000000000000658c0162947d948c016b9429738c06736861726564945d94284b014b026568098694752e',
  '80059583000000000000007d94288c0161945d94284b014afeffffff47400c0000000000004e88898c05c3a9e282ac944b014b0286948a090000000000000000408a090000000000000000c04d2c014a701101004affffffff8a0600000000000147bfd0000000000000658c0162947d948c016b9429738c06736861726564945d94284b014b026568098694752e',
];

describe('unpickle', () => {
  it.each(SAME_OBJECT_BY_PROTOCOL.map((h, p) => [p, h] as const))('decodes a CPython protocol-%i pickle', (_p, h) => {
    const v = unpickle(hex(h)) as Map<string, unknown>;
    expect(v).toBeInstanceOf(Map);
    expect([...v.keys()]).toEqual(['a', 'b', 'shared']);
    const a = v.get('a') as unknown[];
    expect(isPickleTuple(a)).toBe(false);
    expect(a.slice(0, 7)).toEqual([1, -2, 3.5, null, true, false, 'é€']);
    expect(isPickleTuple(a[7])).toBe(true);
    expect(a[7]).toEqual([1, 2]);
    expect(a[8]).toBe(2n ** 70n);
    expect(a[9]).toBe(-(2n ** 70n));
    expect(a.slice(10)).toEqual([300, 70000, -1, 2 ** 40, -0.25]);
    const b = v.get('b') as Map<string, unknown>;
    expect(b.get('k')).toEqual([]);
    expect(isPickleTuple(b.get('k'))).toBe(true);
    // The memo preserves identity: both tuple items are the same list.
    const shared = v.get('shared') as unknown[][];
    expect(shared[0]).toEqual([1, 2]);
    expect(shared[0]).toBe(shared[1]);
  });

  it('decodes bytes, bytearray (protocol 5), sets and frozensets (protocol 4)', () => {
    const v = unpickle(hex('8005951d000000000000007d94288c01789443027879948c0179949601000000000000007a94752e')) as Map<string, unknown>;
    expect(v.get('x')).toEqual(new Uint8Array([0x78, 0x79]));
    expect(v.get('y')).toEqual(new Uint8Array([0x7a]));
    const s = unpickle(hex('8004951a000000000000007d94288c0173948f94284b014b02908c016694284b039194752e')) as Map<string, unknown>;
    expect(s.get('s')).toEqual(new Set([1, 2]));
    expect(s.get('f')).toEqual(new Set([3]));
  });

  it('refuses os.system reached through GLOBAL (protocol 2) and STACK_GLOBAL (protocol 4), naming it', () => {
    // pickle.dumps(Evil()) where Evil.__reduce__ returns (os.system, ('echo pwned',)).
    const p2 = hex('800263706f7369780a73797374656d0a7100580a0000006563686f2070776e656471018571025271032e');
    const p4 = hex('80049525000000000000008c05706f736978948c0673797374656d9493948c0a6563686f2070776e656494859452942e');
    expect(() => unpickle(p2, { label: 'evil.pkl' })).toThrow(UnpicklingError);
    expect(() => unpickle(p2, { label: 'evil.pkl' })).toThrow(/evil\.pkl: refusing to load global 'posix\.system'/);
    expect(() => unpickle(p4)).toThrow(/refusing to load global 'posix\.system'/);
  });

  it('refuses builtins.eval and names it', () => {
    const p = hex('8002635f5f6275696c74696e5f5f0a6576616c0a71005803000000312b3171018571025271032e');
    expect(() => unpickle(p)).toThrow(/refusing to load global '__builtin__\.eval'/);
  });

  it('refuses bytes encoded via _codecs.encode (protocol 2) since it is a call', () => {
    const p = hex('8002635f636f646563730a656e636f64650a710058020000007879710158060000006c6174696e3171028671035271042e');
    expect(() => unpickle(p)).toThrow(/'_codecs\.encode'/);
  });

  it('calls only the handlers of allowed globals, and refuses calling value-only globals', () => {
    // OrderedDict([('x', 1)]) as CPython writes it: GLOBAL, EMPTY_TUPLE, REDUCE, then SETITEM.
    const od = hex('800263636f6c6c656374696f6e730a4f726465726564446963740a71002952710158010000007871024b01732e');
    expect(() => unpickle(od)).toThrow(/refusing to load global 'collections\.OrderedDict'.*no globals allowed/);
    const v = unpickle(od, { globals: { 'collections.OrderedDict': { call: () => new Map() } } });
    expect(v).toEqual(new Map([['x', 1]]));
    expect(() => unpickle(od, { globals: { 'collections.OrderedDict': {} } })).toThrow(/refusing to call global 'collections\.OrderedDict'/);
    // A global allowed as a value is just a description.
    const g = unpickle(hex('800263746f7263680a466c6f617453746f726167650a2e'), { globals: { 'torch.FloatStorage': {} } });
    expect(g).toBeInstanceOf(PickleGlobal);
    expect((g as PickleGlobal).qualifiedName).toBe('torch.FloatStorage');
  });

  it('refuses REDUCE on anything that is not an allowed global', () => {
    // PROTO 2, EMPTY_LIST, EMPTY_TUPLE, REDUCE, STOP
    expect(() => unpickle(hex('80025d29522e'))).toThrow(/refusing REDUCE on list of 0/);
  });

  it('refuses instance creation: INST, OBJ, NEWOBJ', () => {
    // INST os\nsystem\n
    expect(() => unpickle(hex('28696f730a73797374656d0a2e'))).toThrow(/refusing INST of 'os\.system'/);
    // MARK, GLOBAL allowed value, OBJ
    const obj = hex('2863746f7263680a466c6f617453746f726167650a6f2e');
    expect(() => unpickle(obj, { globals: { 'torch.FloatStorage': {} } })).toThrow(/refusing OBJ of global 'torch\.FloatStorage'/);
    // GLOBAL, EMPTY_TUPLE, NEWOBJ
    const newobj = hex('800263746f7263680a466c6f617453746f726167650a29812e');
    expect(() => unpickle(newobj, { globals: { 'torch.FloatStorage': {} } })).toThrow(/refusing NEWOBJ of global 'torch\.FloatStorage'/);
  });

  it('refuses BUILD and persistent ids without handlers, extension codes and buffers', () => {
    expect(() => unpickle(hex('80027d7d622e'))).toThrow(/refusing BUILD on dict of 0/);
    expect(() => unpickle(hex('80024b01512e'))).toThrow(/refusing persistent id/);
    expect(() => unpickle(hex('8002820100'))).toThrow(/refusing opcode EXT1/);
    expect(() => unpickle(hex('800597'))).toThrow(/refusing opcode NEXT_BUFFER/);
  });

  it('reports malformed pickles with the byte position', () => {
    expect(() => unpickle(hex('80025803000000ab'), { label: 'x.pkl' })).toThrow(/x\.pkl: truncated pickle .*at byte 2/);
    expect(() => unpickle(hex('8002ff'))).toThrow(/unknown pickle opcode 0xff \(at byte 2\)/);
    expect(() => unpickle(hex('8002680a2e'))).toThrow(/memo key 10 is not defined/);
    expect(() => unpickle(hex('80024b014b022e'))).toThrow(/STOP with 2 values/);
    expect(() => unpickle(hex('8002'))).toThrow(/truncated pickle/);
    expect(() => unpickle(new Uint8Array(0))).toThrow(/empty pickle/);
    // SETITEM on a list, APPEND on a tuple
    expect(() => unpickle(hex('80025d4b014b02732e'))).toThrow(/SETITEM\(S\) on list of 0, expected a dict/);
    expect(() => unpickle(hex('8002294b01612e'))).toThrow(/APPEND\(S\) on tuple of 0, expected a list/);
    // A TUPLE cannot reach below its MARK.
    expect(() => unpickle(hex('80024b01284b02742e'))).toThrow(/STOP with 2 values/);
    expect(() => unpickle(hex('80022885'))).toThrow(/stack underflow/);
  });
});
