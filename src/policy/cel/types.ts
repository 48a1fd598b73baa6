// The value types the Kubernetes CEL libraries add (optional, Quantity, IP, CIDR, URL, Semver). CEL-ES
// represents every non-scalar value as a protobuf message, so each type is a small message declared here at
// run time; what does not fit in fields (an optional's payload) is kept beside the message in a WeakMap.
import { CelScalar, type CelValue, objectType } from '@bufbuild/cel';
import {
  create,
  createFileRegistry,
  type DescMessage,
  type Message,
  type Registry,
} from '@bufbuild/protobuf';
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
} from '@bufbuild/protobuf/wkt';

const STRING = FieldDescriptorProto_Type.STRING;
const BOOL = FieldDescriptorProto_Type.BOOL;
const INT64 = FieldDescriptorProto_Type.INT64;
const BYTES = FieldDescriptorProto_Type.BYTES;

function field(name: string, number: number, type: FieldDescriptorProto_Type) {
  return { name, number, type, label: FieldDescriptorProto_Label.OPTIONAL, jsonName: name };
}

function file(name: string, pkg: string, messages: { name: string; field: ReturnType<typeof field>[] }[]) {
  return create(FileDescriptorProtoSchema, {
    name,
    package: pkg,
    syntax: 'proto3',
    messageType: messages,
  });
}

// Type names as Kubernetes spells them, so `type(x)` reads the same as in a cluster.
const FILES = [
  file('plumbline/cel/optional.proto', 'cel', [
    // The payload lives beside the message (see optionalOf); == on optionals is handled in env.ts.
    { name: 'Optional', field: [field('present', 1, BOOL)] },
  ]),
  file('plumbline/cel/kubernetes.proto', 'kubernetes', [
    // A quantity is an exact rational: numerator / denominator, reduced, so that == compares amounts.
    { name: 'Quantity', field: [field('num', 1, STRING), field('den', 2, STRING)] },
    { name: 'URL', field: [field('href', 1, STRING)] },
    {
      name: 'Semver',
      field: [
        field('major', 1, INT64),
        field('minor', 2, INT64),
        field('patch', 3, INT64),
        field('prerelease', 4, STRING),
        field('build', 5, STRING),
      ],
    },
  ]),
  file('plumbline/cel/net.proto', 'net', [
    { name: 'IP', field: [field('bytes', 1, BYTES)] },
    { name: 'CIDR', field: [field('bytes', 1, BYTES), field('prefix', 2, INT64)] },
  ]),
];

function buildRegistry(): Registry {
  const registries = FILES.map((f) => createFileRegistry(f, () => undefined));
  return createFileRegistry(...registries);
}

export const TYPE_REGISTRY: Registry = buildRegistry();

function message(name: string): DescMessage {
  const desc = TYPE_REGISTRY.getMessage(name);
  if (desc === undefined) throw new Error(`internal: CEL type ${name} is not declared`);
  return desc;
}

export const OptionalDesc = message('cel.Optional');
export const QuantityDesc = message('kubernetes.Quantity');
export const UrlDesc = message('kubernetes.URL');
export const SemverDesc = message('kubernetes.Semver');
export const IpDesc = message('net.IP');
export const CidrDesc = message('net.CIDR');

export const OPTIONAL = objectType(OptionalDesc);
export const QUANTITY = objectType(QuantityDesc);
export const URL_TYPE = objectType(UrlDesc);
export const SEMVER = objectType(SemverDesc);
export const IP = objectType(IpDesc);
export const CIDR = objectType(CidrDesc);

export const { BOOL: CEL_BOOL, INT: CEL_INT, STRING: CEL_STRING, DOUBLE: CEL_DOUBLE, DYN } = CelScalar;

/** A message of one of the types above, read through CEL-ES's reflection wrapper. */
export interface ReflectedMessage {
  readonly desc: DescMessage;
  readonly message: Message;
}

export function isReflected(value: unknown): value is ReflectedMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    'desc' in value &&
    'message' in value &&
    typeof (value as { desc: unknown }).desc === 'object'
  );
}

/** The plain fields of a message created by this module, by name. */
export function fieldsOf(value: ReflectedMessage): Record<string, unknown> {
  return value.message as unknown as Record<string, unknown>;
}

export function newMessage(desc: DescMessage, init: Record<string, unknown>): Message {
  // The descriptors are built at run time, so there is no generated type to name here.
  return create(desc, init as never);
}

// --- optional values ---

const payloads = new WeakMap<Message, CelValue>();

export function optionalOf(value: CelValue): Message {
  const m = newMessage(OptionalDesc, { present: true });
  payloads.set(m, value);
  return m;
}

const NONE = newMessage(OptionalDesc, { present: false });

export function optionalNone(): Message {
  return NONE;
}

export function isOptional(value: unknown): value is ReflectedMessage {
  return isReflected(value) && value.desc.typeName === OptionalDesc.typeName;
}

/** The payload of a present optional; undefined when it is empty. */
export function optionalValue(value: ReflectedMessage): CelValue | undefined {
  if (fieldsOf(value).present !== true) return undefined;
  return payloads.get(value.message);
}
