import { describe, expect, it } from 'vitest';
import { InvalidInput } from './errors.js';
import { isUuid, parseUuid } from './uuid.js';

describe('Uuid', () => {
  it('accepts canonical UUIDs in either case', () => {
    expect(parseUuid('11111111-2222-3333-4444-55555555555A', 'listener id')).toBe('11111111-2222-3333-4444-55555555555a');
  });
  it.each(['', '../../etc', '11111111-2222-3333-4444-5555555555555', '11111111222233334444555555555555', 'zzzzzzzz-2222-3333-4444-555555555555'])(
    'rejects %j',
    (bad) => {
      expect(isUuid(bad)).toBe(false);
      expect(() => parseUuid(bad, 'listener id')).toThrow(InvalidInput);
    },
  );
});
