/**
 * Blob and File, as Deno stores them: not their bytes but references into
 * the process's blob store.
 *
 *     { type: "Blob", mimeType, parts: [{ uuid, size }, ...], size }
 *     { type: "File", mimeType, parts, size, name, lastModified }
 *
 * Deno keeps a stored Blob's bytes in memory under each part's uuid, so the
 * value reads back whole only in the process that wrote it; anywhere else
 * it reads back with its size and type, and every read of its bytes fails
 * with TypeError "Blob part not found". kvq does the same with a blob store
 * of its own: the Blobs it wrote, by uuid, kept for the life of the process
 * (a Blob written again reuses its uuid).
 *
 * @module
 */

import { type Fn, getter, has } from "../brand.ts";

type BlobCtor = new (parts?: unknown[], options?: object) => Blob;
type FileCtor = new (parts: unknown[], name: string, options?: object) => File;
const host = globalThis as { Blob?: BlobCtor; File?: FileCtor };
const BlobClass = host.Blob;
const FileClass = host.File;
const sizeOf: Fn | undefined = BlobClass &&
  getter(BlobClass.prototype, "size");
const typeOf: Fn | undefined = BlobClass &&
  getter(BlobClass.prototype, "type");
const nameOf: Fn | undefined = FileClass &&
  getter(FileClass.prototype, "name");
const lastModifiedOf: Fn | undefined = FileClass &&
  getter(FileClass.prototype, "lastModified");

// The process's blob store: every Blob kvq wrote, by the uuid its rows name.
const store = new Map<string, Blob>();
const uuids = new WeakMap<Blob, string>();

/** Whether `o` is a Blob (a File included). */
export function isBlob(o: object): boolean {
  return has(sizeOf, o);
}

// Bun's File getters answer undefined on a Blob instead of throwing.
function isFile(o: object): boolean {
  if (FileClass === undefined || !(o instanceof FileClass)) return false;
  try {
    return typeof nameOf!.call(o) === "string";
  } catch {
    return false;
  }
}

/** Deno's description of a Blob or File; keeps the Blob in the store. */
export function describeBlob(b: object): Record<string, unknown> {
  const size = sizeOf!.call(b) as number;
  const parts: { uuid: string; size: number }[] = [];
  if (size > 0) {
    let uuid = uuids.get(b as Blob);
    if (uuid === undefined) {
      uuid = crypto.randomUUID();
      uuids.set(b as Blob, uuid);
      store.set(uuid, b as Blob);
    }
    parts.push({ uuid, size });
  }
  const d: Record<string, unknown> = {
    type: "Blob",
    mimeType: typeOf!.call(b),
    parts,
    size,
  };
  if (isFile(b)) {
    d.type = "File";
    d.name = nameOf!.call(b);
    d.lastModified = lastModifiedOf!.call(b);
  }
  return d;
}

/** The Blob or File a description stands for. */
export function reviveBlob(d: Record<string, unknown>): object {
  const list = d.parts as { uuid?: unknown; size?: unknown }[];
  const parts: Blob[] = [];
  let missing = false;
  for (let i = 0; i < list.length; i++) {
    const part = store.get(list[i].uuid as string);
    if (part === undefined) missing = true;
    else parts.push(part);
  }
  const options = { type: d.mimeType, lastModified: d.lastModified };
  const b = d.type === "File"
    ? new FileClass!(parts, d.name as string, options)
    : new BlobClass!(parts, options);
  return missing ? unreadable(b, d.size) : b;
}

// A Blob whose bytes are in another process's store: it keeps its size and
// type, and every read fails as Deno's does.
function unreadable(b: Blob, size: unknown): Blob {
  const lost = () => new TypeError("Blob part not found");
  const reject = () => Promise.reject(lost());
  const methods = ["arrayBuffer", "bytes", "text"];
  const props: PropertyDescriptorMap = {
    size: { value: size, configurable: true },
    slice: {
      value: () => {
        throw lost();
      },
      configurable: true,
      writable: true,
    },
    stream: {
      value: () =>
        new ReadableStream({
          pull(controller) {
            controller.error(lost());
          },
        }),
      configurable: true,
      writable: true,
    },
  };
  for (const m of methods) {
    props[m] = { value: reject, configurable: true, writable: true };
  }
  return Object.defineProperties(b, props);
}
