/** The short form of a runner token (never the whole token). Kept here for callers that import it from config/. */
export { shortToken as shortenToken } from '../gitlab/short-token.js';
