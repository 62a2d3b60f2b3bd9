import type { Command } from "commander";

export function registerLogout(program: Command): void {
  program
    .command("logout")
    .description("remove a registry's credentials from Docker's config.json")
    .argument("<server>", "registry host[:port]")
    .action(async (server: string) => {
      // Loaded on use, so other commands (and builds) never pay for these modules.
      const { eraseCredentials } = await import("../../src/registry/credentials.js");
      const { registryHostArg } = await import("../../src/registry/host-arg.js");
      const registry = registryHostArg(server);
      const removed = await eraseCredentials(registry);
      process.stdout.write(
        removed ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`,
      );
    });
}
