// Which ADD sources are git repositories, and how their #ref:subdir fragment reads.
import { describe, expect, it } from "vitest";
import { isGitUrl, parseGitUrl } from "../../../../../builder/ops/add/git.js";

describe("git sources", () => {
  it("recognizes git URLs as BuildKit does, and leaves other URLs to the downloader", () => {
    for (const url of [
      "git://example.com/repo.git",
      "git://127.0.0.1:9418/repo",
      "ssh://git@example.com/repo.git",
      "git@github.com:moby/buildkit.git",
      "https://github.com/moby/buildkit.git",
      "https://github.com/moby/buildkit.git#v0.10.1",
      "http://example.com/r.git/#main:docs",
    ])
      expect(isGitUrl(url), url).toBe(true);
    for (const src of [
      "https://example.com/file.tar.gz",
      "https://example.com/git",
      "https://example.com/a.git.tar",
      "src/",
      "user@host",
    ])
      expect(isGitUrl(src), src).toBe(false);
  });

  it("splits the fragment into ref and subdir", () => {
    expect(parseGitUrl("https://h/r.git")).toEqual({ remote: "https://h/r.git" });
    expect(parseGitUrl("https://h/r.git#v1")).toEqual({ remote: "https://h/r.git", ref: "v1" });
    expect(parseGitUrl("https://h/r.git#main:docs/")).toEqual({
      remote: "https://h/r.git",
      ref: "main",
      subdir: "docs",
    });
    expect(parseGitUrl("git@h:r.git#:sub")).toEqual({ remote: "git@h:r.git", subdir: "sub" });
  });
});
