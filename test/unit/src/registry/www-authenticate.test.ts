import { describe, expect, it } from "vitest";
import { parseChallenge } from "../../../../src/registry/www-authenticate.js";

describe("parseChallenge", () => {
  it("reads a Bearer challenge with quoted params", () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"',
      ),
    ).toEqual({
      scheme: "bearer",
      params: {
        realm: "https://auth.example.com/token",
        service: "registry.example.com",
        scope: "repository:a/b:pull,push",
      },
    });
  });
  it("reads Basic, unquoted values and escapes", () => {
    expect(parseChallenge('Basic realm="a \\"b\\"", charset=UTF-8')).toEqual({
      scheme: "basic",
      params: { realm: 'a "b"', charset: "UTF-8" },
    });
    expect(parseChallenge(null)).toBeUndefined();
    expect(parseChallenge("")).toBeUndefined();
  });
});
