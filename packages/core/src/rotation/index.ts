export * from './mask';
export * from './references';
export * from './jwt-client';
export * from './glob';
export * from './walk';
export * from './update-files';
