/**
 * Node's `process.arch` in Go's GOARCH words (amd64, arm64, 386...), the words gitlab-runner
 * uses wherever it names its architecture (common.AppVersion.Architecture is runtime.GOARCH).
 */
const GOARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  ia32: '386',
  arm64: 'arm64',
  arm: 'arm',
  s390x: 's390x',
  ppc64: 'ppc64le',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/** GOARCH for a Node architecture (default: this process's); an unknown one as Node names it. */
export function goArch(arch: string = process.arch): string {
  return GOARCH[arch] ?? arch;
}
