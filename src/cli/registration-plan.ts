/**
 * What `berth register` will do, decided from its flags (and template) before anything touches
 * GitLab or the disk, with gitlab-runner's rules (commands/register.go):
 * - a `glrt-` token given with `--token` (or `-r`) is an authentication token: it is verified
 *   (`POST /runners/verify`), and the server-side flags are an error with `--token` (ignored with
 *   a warning with `-r`, the "legacy-compatible registration process");
 * - any other `-r` token is a legacy registration token: `POST /runners`;
 * - any other `-t` token is only verified, with gitlab-runner's hint to use `-r`.
 * Every required value must come from a flag or its environment variable in non-interactive
 * mode, even when the template has it: `The <key> needs to be entered`.
 */
import { InputError } from '../shared/errors.js';
import type { RunnerConfig } from '../config/berth-config.js';
import type { RegisterInput } from '../config/register-flags.js';
import { fillZeroDefaults, mergeTemplate } from '../config/template-merge.js';
import type { RegisterRunnerRequest } from '../gitlab/runner-registration-api.js';

export type RegistrationMode = 'authentication-token' | 'registration-token' | 'verify-only';

/** The server-side settings of a legacy registration (the request without token and info). */
export type LegacyRegistration = Omit<RegisterRunnerRequest, 'registrationToken' | 'info'>;

export interface RegistrationPlan {
  mode: RegistrationMode;
  url: string;
  /** The token GitLab is called with (a secret). */
  token: string;
  /** The entry to add to config.toml once GitLab answers (id, token and times still to fill). */
  runner: RunnerConfig;
  legacy: LegacyRegistration;
  /** Lines to show before anything happens: `info` on stdout, `warning` on stderr. */
  notes: { level: 'info' | 'warning'; text: string }[];
}

export const RESERVED_ARGUMENTS_MESSAGE =
  'Runner configuration other than name and executor configuration is reserved (specifically --locked, ' +
  '--access-level, --run-untagged, --maximum-timeout, --paused, --tag-list, and --maintenance-note) ' +
  'and cannot be specified when registering with a runner authentication token. ' +
  'This configuration is specified on the GitLab server. Please try again without specifying any of those arguments. ' +
  'For more information, see https://docs.gitlab.com/ci/runners/new_creation_workflow/#changes-to-the-gitlab-runner-register-command-syntax';

export function isAuthenticationToken(token: string): boolean {
  return token.startsWith('glrt-');
}

export function planRegistration(input: RegisterInput, template: RunnerConfig | undefined, hostname: string): RegistrationPlan {
  const { options, runner: flags } = input;
  if (!options.nonInteractive) {
    throw new InputError(
      'berth register has no interactive prompts yet: pass --non-interactive (-n) with --url, --token, --executor docker and --docker-image',
      { key: '--non-interactive' },
    );
  }
  const notes: RegistrationPlan['notes'] = [];
  const url = required(flags.url, 'url');
  let mode: RegistrationMode;
  let token = flags.token;
  if (token && !isAuthenticationToken(token)) {
    mode = 'verify-only';
    notes.push({ level: 'info', text: 'Token specified trying to verify runner...' });
    notes.push({ level: 'warning', text: "If you want to register use the '-r' instead of '-t'." });
  } else {
    token ||= required(options.registrationToken, 'registration-token');
    mode = isAuthenticationToken(token) ? 'authentication-token' : 'registration-token';
  }
  if (mode === 'registration-token') {
    notes.push({
      level: 'warning',
      text:
        "Support for registration tokens and runner parameters in the 'register' command has been deprecated in GitLab Runner 15.6 " +
        'and will be replaced with support for authentication tokens. For more information, see https://docs.gitlab.com/ci/runners/new_creation_workflow/',
    });
  }
  if (mode === 'authentication-token' && hasServerArguments(input)) {
    // gitlab-runner (ensureServerConfigArgsEmpty) only warns when --registration-token is the token:
    // given alone, or the same glrt- token in both flags.
    if (!flags.token || flags.token === options.registrationToken) {
      notes.push({
        level: 'warning',
        text:
          'You have specified an authentication token in the legacy parameter --registration-token. This has triggered the ' +
          "'legacy-compatible registration process' which has resulted in the following command line parameters being ignored: " +
          '--locked, --access-level, --run-untagged, --maximum-timeout, --paused, --tag-list, and --maintenance-note.',
      });
    } else {
      throw new InputError(RESERVED_ARGUMENTS_MESSAGE, { key: '--token' });
    }
  }

  let runner = template ? mergeTemplate(flags, template) : structuredClone(flags);
  // The values gitlab-runner prompts for come from the flags only, never from the template.
  runner.url = url;
  runner.token = token;
  delete runner.expandedFrom;
  runner.name = required(flags.name || hostname, 'name');
  if (flags.executor !== 'docker') {
    throw new InputError(
      `Invalid executor specified: ${JSON.stringify(flags.executor)}. berth runs every job in Docker: pass --executor docker`,
      { key: '--executor' },
    );
  }
  runner.executor = 'docker';
  runner.docker.image = required(flags.docker.image, 'docker-image');
  addCacheVolume(runner);
  runner = fillZeroDefaults(runner);

  const tagList = options.tagList.split(',').map((t) => t.trim()).filter(Boolean);
  const legacy: LegacyRegistration = {
    description: runner.name,
    maintenanceNote: options.maintenanceNote,
    tagList,
    runUntagged: tagList.length === 0 ? true : options.runUntagged,
    locked: options.locked,
    accessLevel: options.accessLevel as LegacyRegistration['accessLevel'],
    maximumTimeout: options.maximumTimeout,
    paused: options.paused,
  };
  return { mode, url, token, runner, legacy, notes };
}

function required(value: string, key: string): string {
  if (!value.trim()) throw new InputError(`The ${key} needs to be entered`, { key: `--${key}` });
  return value.trim();
}

function hasServerArguments({ options: o }: RegisterInput): boolean {
  return !o.locked || o.accessLevel !== '' || o.runUntagged || o.maximumTimeout !== 0 || o.paused || o.tagList !== '' || o.maintenanceNote !== '';
}

/** gitlab-runner adds a `/cache` volume unless a volume already ends in `/cache` or caching is disabled. */
function addCacheVolume(runner: RunnerConfig): void {
  const d = runner.docker;
  if (d.volumes.some((v) => v.split(':').at(-1) === '/cache')) return;
  if (!d.disableCache) d.volumes = [...d.volumes, '/cache'];
}
