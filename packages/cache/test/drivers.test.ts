import { createMemoryDriver } from '@org/cache';
import { createRedisDriver } from '@org/cache/redis';
import { serverAvailable } from '@org/test-utils';
import { describe } from 'vitest';
import { driverConformance } from './support/driver-conformance.js';

driverConformance('memory', () => createMemoryDriver());

describe.runIf(await serverAvailable('Redis', 6379))('redis (127.0.0.1:6379)', () => {
  driverConformance('redis', () => createRedisDriver('redis://127.0.0.1:6379'));
});
