export * from './access';
export * from './balance';
export * from './denied';
export * from './error';
export * from './window';
export * from './requires-action';
export * from './subscription';
export * from './wallet-connect';
