import type { Command } from "commander";
import { stderrWarnings } from "../warnings.js";
import { UsageError } from "../../src/errors.js";
import { collectList } from "../options.js";

interface LoginFlags {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  insecureRegistry: string[];
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

export function registerLogin(program: Command): void {
  program
    .command("login")
    .description("check credentials against a registry and save them in Docker's config.json")
    .argument("<server>", "registry host[:port]")
    .option("-u, --username <user>", "user name")
    .option("-p, --password <password>", "password (prefer --password-stdin)")
    .option("--password-stdin", "read the password from stdin")
    .option("--insecure-registry <host>", "use plain HTTP for this registry (repeatable)", collectList, [])
    .action(async (server: string, flags: LoginFlags) => {
      // Loaded on use, so other commands (and builds) never pay for these modules.
      const { RegistryClient } = await import("../../src/registry/client.js");
      const { storeCredentials } = await import("../../src/registry/credentials.js");
      const { withContext } = await import("../../src/registry/errors.js");
      const { registryHostArg } = await import("../../src/registry/host-arg.js");
      const registry = registryHostArg(server);
      if (!flags.username) throw new UsageError(`login ${registry}: -u USER is required`);
      if (flags.password !== undefined && flags.passwordStdin) {
        throw new UsageError(`login ${registry}: --password and --password-stdin are exclusive`);
      }
      const password = flags.passwordStdin ? await readStdin() : flags.password;
      if (!password)
        throw new UsageError(`login ${registry}: a password is required (-p or --password-stdin)`);
      const creds = { username: flags.username, password };
      const client = new RegistryClient(registry, {
        insecureRegistries: flags.insecureRegistry,
        credentials: async () => creds,
        progress: stderrWarnings,
      });
      try {
        await client.ping();
      } catch (err) {
        throw withContext(`login ${registry}`, err);
      }
      const where = await storeCredentials(registry, creds);
      process.stdout.write(`Login Succeeded (credentials saved in ${where})\n`);
    });
}
