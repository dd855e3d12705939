/**
 * eachConcurrently (concurrency.ts): how a background pass drains a backlog several at a time,
 * every item getting its turn even when another fails.
 */
import { describe, expect, it } from 'vitest';
import { eachConcurrently } from '../../src/domain/concurrency.js';

describe('eachConcurrently', () => {
  it('runs every item even when some fail, then throws the first failure', async () => {
    const done: number[] = [];
    const first = new Error('item 2 failed');
    const work = (item: number): Promise<void> => {
      if (item === 2) return Promise.reject(first);
      if (item === 4) return Promise.reject(new Error('item 4 failed'));
      done.push(item);
      return Promise.resolve();
    };
    await expect(eachConcurrently([1, 2, 3, 4, 5], 2, work)).rejects.toBe(first);
    expect(done.sort()).toEqual([1, 3, 5]);
  });

  it('resolves when every item succeeded', async () => {
    const done: number[] = [];
    await eachConcurrently([1, 2, 3], 2, (item) => {
      done.push(item);
      return Promise.resolve();
    });
    expect(done.sort()).toEqual([1, 2, 3]);
  });
});
