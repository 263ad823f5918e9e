export * from './admin';
export * from './catalogue';
export * from './engine';
export * from './http';
