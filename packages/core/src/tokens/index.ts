export * from './bearer';
export * from './keys';
export * from './key-file';
export * from './key-agreement';
export * from './live-keys';
export * from './jwt';
export * from './service';
