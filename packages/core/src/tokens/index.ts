export * from './bearer';
export * from './keys';
export * from './jwt';
export * from './service';
