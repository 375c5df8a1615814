import { describe, expect, it } from 'vitest';
import { compactQuery, toIpcError } from './index';

describe('toIpcError', () => {
  it('keeps an IpcError and wraps anything else as internal', () => {
    expect(toIpcError({ code: 'unreachable', message: 'down', field: null })).toEqual({
      code: 'unreachable',
      message: 'down',
      field: null,
      fields: [],
    });
    expect(toIpcError('command list_users not found')).toEqual({
      code: 'internal',
      message: 'command list_users not found',
      field: null,
      fields: [],
    });
    expect(toIpcError({ code: 'made_up', message: 'x' }).code).toBe('internal');
  });
});

describe('compactQuery', () => {
  it('drops empty filters', () => {
    expect(compactQuery({ q: '  ', status: undefined, limit: 100, cursor: undefined })).toEqual({ limit: 100 });
    expect(compactQuery({ q: ' ann ', status: 'active', limit: 100, cursor: 'c' })).toEqual({
      q: 'ann',
      status: 'active',
      limit: 100,
      cursor: 'c',
    });
  });
});
