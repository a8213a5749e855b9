/**
 * config.toml's loaders for the runner commands (register, list, verify, unregister), loaded
 * when one of them runs: the TOML parser and writer and node:crypto then stay out of the
 * start-up of every other command (`berth exec`, `berth --version`).
 */
export async function configStore() {
  const [load, save, systemId] = await Promise.all([
    import('../config/load-config.js'),
    import('../config/save-config.js'),
    import('../config/system-id.js'),
  ]);
  return { loadConfig: load.loadConfig, saveConfig: save.saveConfig, loadOrCreateSystemId: systemId.loadOrCreateSystemId };
}
