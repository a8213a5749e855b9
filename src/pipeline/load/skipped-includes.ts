/**
 * The includes berth exec could not read (template, remote, project, component). GitLab
 * would have merged them, so a name that is missing locally may be defined there: the
 * compiler then forgives it with a warning instead of failing.
 */
export class SkippedIncludes {
  private readonly list: string[] = [];

  add = (what: string): void => {
    if (!this.list.includes(what)) this.list.push(what);
  };

  /** True when something was skipped, so that missing names are forgiven. */
  get any(): boolean {
    return this.list.length > 0;
  }

  /** `(it may be defined in include:template "X", which berth exec cannot read)` */
  hint(): string {
    const [first, ...rest] = this.list;
    const others = rest.length ? ` or ${rest.length} other skipped include${rest.length > 1 ? 's' : ''}` : '';
    return `it may be defined in ${first ?? 'a skipped include'}${others}, which berth exec cannot read`;
  }
}
