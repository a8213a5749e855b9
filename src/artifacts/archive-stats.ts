/** What writing or extracting an archive did. */

/** An archive written: its entries and the size of the archive file in bytes. */
export interface ArchiveStats {
  entries: number;
  bytes: number;
}

/** An archive extracted: the entries produced and the bytes of file content they hold. */
export interface ExtractStats {
  entries: number;
  bytes: number;
}
