import { createMemoryDriver } from '@org/cache';
import { createRedisDriver } from '@org/cache/redis';
import { driverConformance } from '@org/cache/testing';
import { serverAvailable } from '@org/test-utils';
import { describe, expect, it } from 'vitest';

driverConformance('memory', () => createMemoryDriver(), { describe, it, expect });

describe.runIf(await serverAvailable('Redis', 6379))('redis (127.0.0.1:6379)', () => {
  driverConformance('redis', () => createRedisDriver('redis://127.0.0.1:6379'), {
    describe,
    it,
    expect,
  });
});
