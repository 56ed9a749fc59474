import { MemoryStore } from '../src/store/memory';
import { describeStoreConformance } from './store-conformance';

describeStoreConformance('MemoryStore', { create: async () => new MemoryStore() });
