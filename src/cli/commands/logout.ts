import type { Command } from "commander";
import { eraseCredentials } from "../../registry/credentials.js";
import { registryHostArg } from "../../registry/host-arg.js";

export function registerLogout(program: Command): void {
  program
    .command("logout")
    .description("remove a registry's credentials from Docker's config.json")
    .argument("<server>", "registry host[:port]")
    .action(async (server: string) => {
      const registry = registryHostArg(server);
      const removed = await eraseCredentials(registry);
      process.stdout.write(
        removed ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`,
      );
    });
}
