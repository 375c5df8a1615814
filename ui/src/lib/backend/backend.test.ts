import { describe, expect, it } from 'vitest';
import { compactAttemptQuery, compactQuery, compactSessionQuery, toIpcError } from './index';

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

  it('keeps mfa_required, which sign-in answers with a code field', () => {
    expect(toIpcError({ code: 'mfa_required', message: 'Enter your code', field: null, fields: [] }).code).toBe('mfa_required');
  });

  it('keeps step_up_required, on which the UI asks for the password and retries', () => {
    expect(toIpcError({ code: 'step_up_required', message: 'Confirm your password', field: null, fields: [] }).code).toBe('step_up_required');
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

describe('compactSessionQuery and compactAttemptQuery', () => {
  it('send only the filters that are set', () => {
    expect(compactSessionQuery({ q: ' ', state: 'active', limit: 50, cursor: null })).toEqual({ state: 'active', limit: 50 });
    expect(compactSessionQuery({ q: ' 10.0.0.1 ', state: 'all', limit: 50, cursor: 'c' })).toEqual({ q: '10.0.0.1', state: 'all', limit: 50, cursor: 'c' });
    expect(compactAttemptQuery({ result: null, reason: '', user_id: undefined, email: ' ', ip: '', from: null, to: undefined, limit: 50 })).toEqual({ limit: 50 });
    expect(compactAttemptQuery({ result: 'failure', reason: 'locked', user_id: 'u-1', email: ' dana ', ip: ' 10.0.0.1', from: 'f', to: 't', limit: 5, cursor: 'c' })).toEqual({
      result: 'failure',
      reason: 'locked',
      user_id: 'u-1',
      email: 'dana',
      ip: '10.0.0.1',
      from: 'f',
      to: 't',
      limit: 5,
      cursor: 'c',
    });
  });
});
