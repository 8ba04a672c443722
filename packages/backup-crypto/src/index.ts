export { FernetError, FernetErrorCode, INVALID_TOKEN_MESSAGE, isFernetError } from './errors.js';
export type { DecryptOptions, EncryptOptions, FernetOptions } from './fernet.js';
export { Fernet } from './fernet.js';
export type { FernetKey } from './key.js';
export { generateKey } from './key.js';
export { MultiFernet } from './multi-fernet.js';
