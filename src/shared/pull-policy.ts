/** An image pull policy, in GitLab's spelling (`image:pull_policy`, `[runners.docker] pull_policy`). */
export type PullPolicy = 'always' | 'if-not-present' | 'never';
