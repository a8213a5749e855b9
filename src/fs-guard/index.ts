/**
 * src/fs-guard: every file berth reads or writes inside a directory it does not trust (the user's
 * repository) goes through here. Writes never follow links and never land outside; reads resolve
 * links but stay inside, and refuse anything but regular files of a bounded size. Async only:
 * nothing can spin on a path a repository controls. Imports only src/shared.
 */
export { FsGuardError, type FsGuardReason } from './fs-guard-error.js';
export { ensureDirUnder, realRootOf } from './guarded-dir.js';
export { checkWritableUnder, openForWriteUnder, writeFileUnder, type GuardedWriteOptions } from './guarded-write.js';
export { readRegularFile, resolveInside } from './guarded-read.js';
export { LeadingLinkCheck } from './leading-links.js';
export { isInside } from './path-inside.js';
export { openUserTarget, prepareUserTarget, writeUserFile, type UserTarget } from './user-target.js';
