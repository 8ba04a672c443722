export type { ChunkedDecryptOptions } from './chunked-decrypt.js';
export { createChunkedDecryptStream } from './chunked-decrypt.js';
export type { ChunkedEncryptOptions } from './chunked-encrypt.js';
export {
  createChunkedEncryptStream,
  DEFAULT_CHUNK_SIZE,
  MAX_CHUNK_SIZE,
} from './chunked-encrypt.js';
export type { DecryptStreamOptions } from './decrypt-stream.js';
export { createDecryptStream } from './decrypt-stream.js';
export type { EncryptStreamOptions } from './encrypt-stream.js';
export { createEncryptStream } from './encrypt-stream.js';
export { FernetError, FernetErrorCode, INVALID_TOKEN_MESSAGE, isFernetError } from './errors.js';
export type { DecryptOptions, EncryptOptions, FernetOptions } from './fernet.js';
export { Fernet } from './fernet.js';
export type { FileOptions, FileProgress } from './files.js';
export { decryptFile, encryptFile, rotateFile } from './files.js';
export type { FernetKey } from './key.js';
export { generateKey } from './key.js';
export { MultiFernet } from './multi-fernet.js';
export type { StreamSignalOption } from './stream-signal.js';
export { createDecryptWebStream, createEncryptWebStream } from './web-streams.js';
