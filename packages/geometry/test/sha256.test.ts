// The pure-TypeScript SHA-256 against Node's OpenSSL one (an independent implementation).
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sha256 } from "../src/sha256.js";

describe("sha256", () => {
  it("matches the FIPS 180-4 test vectors", () => {
    expect(sha256().update("abc").digest()).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(sha256().digest()).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    expect(
      sha256().update("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").digest(),
    ).toBe("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  });

  it("equals node:crypto on random chunked inputs (lengths around the 55/56/64-byte edges)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 6 }),
        fc.string(),
        (chunks, text) => {
          const ours = sha256();
          const ref = createHash("sha256");
          for (const c of chunks) {
            ours.update(c);
            ref.update(c);
          }
          ours.update(text);
          ref.update(text);
          expect(ours.digest()).toBe(ref.digest("hex"));
        },
      ),
      { numRuns: 300 },
    );
    for (let n = 50; n <= 130; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 255);
      expect(sha256().update(bytes).digest()).toBe(
        createHash("sha256").update(bytes).digest("hex"),
      );
    }
  });

  it("refuses use after digest", () => {
    const h = sha256();
    h.digest();
    expect(() => h.update("x")).toThrow(/after digest/);
    expect(() => h.digest()).toThrow(/twice/);
  });
});
