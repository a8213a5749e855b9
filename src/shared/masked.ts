/** What every secret becomes in berth's output, as in gitlab-runner's job logs. */
export const MASKED = '[MASKED]';
