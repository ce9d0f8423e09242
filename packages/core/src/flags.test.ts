import { describe, expect, it } from 'vitest';
import { DEFAULT_FLAGS, FLAG_ENV, flags, flagsFromEnv, withFlags } from './flags.js';

describe('flags', () => {
  it('every flag is on (or at its default) without environment variables', () => {
    expect(flagsFromEnv({})).toEqual(DEFAULT_FLAGS);
  });

  it('each environment variable changes its own flag and no other', () => {
    for (const key of Object.keys(FLAG_ENV) as (keyof typeof FLAG_ENV)[]) {
      const numeric = typeof DEFAULT_FLAGS[key] === 'number';
      const f = flagsFromEnv({ [FLAG_ENV[key]]: numeric ? '7' : '1' });
      expect(f[key], key).toBe(numeric ? 7 : !DEFAULT_FLAGS[key]);
      for (const other of Object.keys(FLAG_ENV) as (keyof typeof FLAG_ENV)[]) if (other !== key) expect(f[other], `${key} -> ${other}`).toBe(DEFAULT_FLAGS[other]);
    }
  });

  it('FER_NO_WINOGRAD no longer turns off the dense matmul or the one-channel conv', () => {
    const f = flagsFromEnv({ FER_NO_WINOGRAD: '1' });
    expect(f).toMatchObject({ winograd: false, nativeMatMul: true, oneChannelConv: true });
  });

  it('"0", empty and malformed numbers leave the default', () => {
    expect(flagsFromEnv({ FER_NO_WINOGRAD: '0', FER_NO_FUSED_ADAM: '', FER_WINOGRAD_TILE_BLOCK: 'big' })).toEqual(DEFAULT_FLAGS);
  });

  it('withFlags scopes a change to one call, also when it throws', () => {
    const before = { ...flags };
    expect(withFlags({ winograd: !before.winograd, smallChannelGradMax: 0 }, () => [flags.winograd, flags.smallChannelGradMax])).toEqual([!before.winograd, 0]);
    expect(flags).toEqual(before);
    expect(() =>
      withFlags({ fusedAdam: !before.fusedAdam }, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(flags).toEqual(before);
  });

  it('withFlags waits for an async function, and nested scopes restore in order', async () => {
    const before = { ...flags };
    const seen = await withFlags({ simdKernels: false }, async () => {
      await new Promise((r) => setTimeout(r, 5));
      const inner = withFlags({ winograd: false }, () => [flags.simdKernels, flags.winograd]);
      return [...inner, flags.winograd];
    });
    expect(seen).toEqual([false, false, before.winograd]);
    expect(flags).toEqual(before);
    await expect(withFlags({ simdKernels: false }, async () => Promise.reject(new Error('late')))).rejects.toThrow('late');
    expect(flags).toEqual(before);
  });
});
