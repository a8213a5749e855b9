'use strict';
// Stand-in for modules dockerode loads but berth never uses (the SSH transport, the BuildKit
// session, BuildKit's progress decoder, the build-context packer). Any use throws a clear error;
// merely loading or reading properties does not.
function fail() {
  throw new Error('berth: this Docker client feature (SSH transport, BuildKit session or progress, image build context) is not supported');
}
function lazy() {
  return new Proxy(function () {}, {
    get: (_t, key) => (key === '__esModule' ? false : key === Symbol.toPrimitive ? () => '' : lazy()),
    apply: fail,
    construct: fail,
  });
}
module.exports = lazy();
