// The Kubernetes CEL libraries and the parser extensions, as data: expression → expected value. Cases come
// from the Kubernetes CEL reference's examples where it gives them.
import { type CelInput, type CelValue, isCelList } from '@bufbuild/cel';
import { describe, expect, it } from 'vitest';
import { CostLimitError, CostMeter } from './cost.js';
import { CelCompileError, CelEvalError, compileExpression, evaluateExpression } from './env.js';
import { rewriteSource } from './rewrite.js';

const object = new Map<string, CelInput>([
  [
    'metadata',
    new Map<string, CelInput>([
      ['name', 'web'],
      ['labels', new Map([['app', 'web']])],
    ]),
  ],
  [
    'spec',
    new Map<string, CelInput>([
      ['replicas', 3n],
      [
        'containers',
        [
          new Map<string, CelInput>([
            ['name', 'app'],
            ['image', 'registry.example.com/web:1.2.3'],
          ]),
          new Map<string, CelInput>([
            ['name', 'sidecar'],
            ['image', 'envoy:latest'],
          ]),
        ],
      ],
    ]),
  ],
]);

function run(expr: string): CelValue {
  return evaluateExpression(expr, { object });
}

const TRUE_CASES = [
  // optional types
  `object.metadata.?labels.?app.orValue('') == 'web'`,
  `object.metadata.?annotations.?owner.orValue('nobody') == 'nobody'`,
  `!object.spec.?template.hasValue()`,
  `object.spec.containers[?5].orValue('none') == 'none'`,
  `object.?spec.?containers[?0].image.orValue('') == 'registry.example.com/web:1.2.3'`,
  `optional.of(1).optMap(x, x + 1).value() == 2`,
  `optional.none().optMap(x, x + 1).hasValue() == false`,
  `[?optional.none(), ?optional.of(2), 3] == [2, 3]`,
  `{?'a': optional.none(), 'b': 1} == {'b': 1}`,
  `optional.of(1) == optional.of(1) && optional.none() != optional.of(1)`,
  `type(optional.none()) == optional_type`,
  // backquoted fields and cel.bind
  "{'app.kubernetes.io/name': 'web'}.`app.kubernetes.io/name` == 'web'",
  `cel.bind(c, object.spec.containers, c.size() == 2)`,
  // strings
  `'Hello'.lowerAscii() == 'hello' && 'Hello'.upperAscii() == 'HELLO'`,
  `'a,b,c'.split(',') == ['a', 'b', 'c'] && ['a', 'b'].join('-') == 'a-b'`,
  `' x '.trim() == 'x' && 'abc'.substring(1) == 'bc' && 'abcabc'.lastIndexOf('b') == 4`,
  `'%s has %d replicas'.format([object.metadata.name, object.spec.replicas]) == 'web has 3 replicas'`,
  `'abc'.charAt(1) == 'b' && 'a-b'.replace('-', '+') == 'a+b' && 'abc'.reverse() == 'cba'`,
  `base64.decode(base64.encode(b'hi')) == b'hi'`,
  // regex
  `'registry.example.com/web:1.2.3'.matches('^[a-z.]+/[a-z]+:[0-9.]+$')`,
  `'abc 123 def 456'.find('[0-9]+') == '123'`,
  `'abc 123 def 456'.findAll('[0-9]+') == ['123', '456']`,
  `'abc 123 def 456'.findAll('[0-9]+', 1) == ['123']`,
  `'xyz'.find('[0-9]+') == ''`,
  `'aaa'.findAll('a*?') == ['', '', '', '']`,
  `'tacocat'.find('(?i)CAT') == 'cat'`,
  // lists
  `[1, 2, 3].isSorted() && ![3, 1].isSorted() && [1, 2, 3].sum() == 6 && [1.5, 2.5].sum() == 4.0`,
  `[3, 1, 2].min() == 1 && [3, 1, 2].max() == 3 && [1, 2, 1].indexOf(1) == 0 && [1, 2, 1].lastIndexOf(1) == 2`,
  `[1, 2, 3, 4].slice(1, 3) == [2, 3] && [[1], [2, [3]]].flatten() == [1, 2, [3]] && [1, 2].reverse() == [2, 1]`,
  `[1, 2, 1].distinct() == [1, 2] && [3, 1, 2].sort() == [1, 2, 3] && lists.range(3) == [0, 1, 2]`,
  `sets.contains([1, 2, 3], [2]) && sets.equivalent([1, 2], [2, 1]) && sets.intersects([1], [1, 5])`,
  `math.greatest(1, 5, 3) == 5 && math.least([4, 2]) == 2 && math.ceil(1.2) == 2.0`,
  // macros, including the two-variable forms
  `object.spec.containers.all(c, c.name.size() > 0) && object.spec.containers.exists_one(c, c.name == 'app')`,
  `object.spec.containers.map(c, c.name) == ['app', 'sidecar']`,
  `object.spec.containers.filter(c, c.image.endsWith(':latest')).size() == 1`,
  `{'a': 1, 'b': 2}.all(k, v, v > 0) && [10, 20].exists(i, v, i == 1 && v == 20)`,
  `[1, 2].transformList(i, v, v * 10) == [10, 20] && {'a': 1}.transformMap(k, v, v + 1) == {'a': 2}`,
  // quantities
  `quantity('1Gi').isGreaterThan(quantity('1000Mi')) && quantity('500m').isLessThan(quantity('1'))`,
  `quantity('1').compareTo(quantity('1000m')) == 0 && quantity('1') == quantity('1000m')`,
  `quantity('1.5Gi').asInteger() == 1610612736 && quantity('2k').add(quantity('1')).asInteger() == 2001`,
  `quantity('1').sub(1).sign() == 0 && !quantity('500m').isInteger() && quantity('250m').asApproximateFloat() == 0.25`,
  `isQuantity('128Mi') && !isQuantity('12 Mi') && quantity('1e3').asInteger() == 1000`,
  // IPs and CIDRs
  `ip('192.168.0.1').family() == 4 && ip('::1').family() == 6 && ip('127.0.0.1').isLoopback()`,
  `isIP('10.0.0.1') && !isIP('10.0.0.01') && !isIP('::ffff:10.0.0.1') && ip.isCanonical('2001:db8::1')`,
  `!ip.isCanonical('2001:DB8::1') && string(ip('2001:db8:0:0:0:0:0:1')) == '2001:db8::1'`,
  `ip('169.254.1.1').isLinkLocalUnicast() && ip('224.0.0.1').isLinkLocalMulticast() && ip('8.8.8.8').isGlobalUnicast()`,
  `ip('0.0.0.0').isUnspecified() && !ip('255.255.255.255').isGlobalUnicast()`,
  `cidr('10.0.0.0/8').containsIP(ip('10.1.2.3')) && cidr('10.0.0.0/8').containsIP('10.1.2.3') && !cidr('10.0.0.0/8').containsIP('11.0.0.1')`,
  `cidr('10.0.0.0/8').containsCIDR('10.1.0.0/16') && !cidr('10.1.0.0/16').containsCIDR(cidr('10.0.0.0/8'))`,
  `cidr('192.168.1.5/24').masked() == cidr('192.168.1.0/24') && cidr('192.168.1.5/24').prefixLength() == 24`,
  `string(cidr('192.168.1.5/24').ip()) == '192.168.1.5' && isCIDR('::1/128') && !isCIDR('10.0.0.0/33')`,
  // URLs
  `url('https://example.com:8443/a/b?x=1&x=2&y').getScheme() == 'https'`,
  `url('https://example.com:8443/a/b').getHost() == 'example.com:8443' && url('https://example.com:8443/').getPort() == '8443'`,
  `url('https://[::1]:80/').getHostname() == '::1' && url('https://example.com/a%20b').getEscapedPath() == '/a%20b'`,
  `url('https://example.com/?x=1&x=2&y').getQuery() == {'x': ['1', '2'], 'y': ['']}`,
  `isURL('/just/a/path') && !isURL('not a url') && !isURL('relative/path')`,
  // semver
  `semver('1.2.3').isLessThan(semver('1.10.0')) && semver('1.0.0-alpha').isLessThan(semver('1.0.0'))`,
  `semver('2.3.4').major() == 2 && isSemver('1.0.0') && !isSemver('1.0')`,
  `semver('1.0.0-alpha.1').isLessThan(semver('1.0.0-alpha.beta')) && semver('1.0.0-2').isLessThan(semver('1.0.0-10'))`,
  `semver('1.0.0-alpha').isLessThan(semver('1.0.0-alpha.1')) && semver('1.2.3+build').compareTo(semver('1.2.3')) == 0`,
  `semver('2.0.0').isGreaterThan(semver('1.9.9')) && semver('1.2.3').minor() == 2 && semver('1.2.3').patch() == 3`,
  `string(quantity('1500m')) == '1.5' && string(quantity('2Ki')) == '2048' && string(quantity('-250m')) == '-0.25'`,
  `quantity('1').add(quantity('500m')).compareTo(quantity('1.5')) == 0 && quantity('1').sub(quantity('2')).sign() == -1`,
  `quantity('10u').isLessThan(quantity('1m')) && quantity('3n').isGreaterThan(quantity('0')) && quantity('+1E-3') == quantity('1m')`,
  `!quantity('1Ei').isLessThan(quantity('1E')) && quantity('.5').asApproximateFloat() == 0.5`,
  `string(url('https://example.com/x')) == 'https://example.com/x' && url('http://user@example.com/').getHost() == 'example.com'`,
  `url('https://example.com').getPort() == '' && url('/a?x=%41').getQuery() == {'x': ['A']} && !isURL('https://[::1/')`,
  `ip('2001:db8::').family() == 6 && string(ip('::')) == '::' && string(ip('1:0:0:1:0:0:0:1')) == '1:0:0:1::1'`,
  `ip('fe80::1').isLinkLocalUnicast() && ip('ff02::1').isLinkLocalMulticast() && !ip('::1').isGlobalUnicast()`,
  `!isIP('1.2.3.4.5') && !isIP('::1%eth0') && !isIP('1::2::3') && !isIP('256.1.1.1') && isIP('::1.2.3.4')`,
  `string(cidr('2001:db8::/32')) == '2001:db8::/32' && cidr('2001:db8::/32').containsIP('2001:db8::1') && !cidr('10.0.0.0/8').containsIP('::1')`,
  `!isCIDR('10.0.0.0') && !isCIDR('10.0.0.0/08') && cidr('10.0.0.0/8').containsCIDR(cidr('10.0.0.0/8'))`,
  `math.sign(-2) == -1 && math.abs(-3) == 3 && math.abs(-1.5) == 1.5 && math.isNaN(0.0 / 0.0) && !math.isFinite(1.0 / 0.0)`,
  `math.bitAnd(6, 3) == 2 && math.bitOr(1u, 2u) == 3u && math.bitShiftLeft(1, 3) == 8 && math.bitShiftRight(-8, 1) == 9223372036854775804`,
  `[1, [2, [3, [4]]]].flatten(2) == [1, 2, 3, [4]] && ['b', 'a'].sort() == ['a', 'b'] && [true, false].distinct() == [true, false]`,
  `optional.ofNonZeroValue('').orValue('x') == 'x' && optional.ofNonZeroValue([]).hasValue() == false && optional.none().or(optional.of(2)).value() == 2`,
  `has({'a': {'b': 1}}.?a.b) && !has({'a': {'b': 1}}.?a.c) && {'a': [1]}.?a[0].value() == 1`,
  `[[1, 2], [3]].transformList(i, v, i < 1, v.size()) == [2] && {'a': 1, 'b': 2}.transformMap(k, v, v > 1, v * 2) == {'b': 4}`,
  `[1, 2, 3].existsOne(i, v, v == 2) && {'x': 'y'}.exists(k, v, k == 'x' && v == 'y')`,
  // numbers from YAML are ints, and ints compare with doubles
  `object.spec.replicas == 3 && object.spec.replicas == 3.0 && type(object.spec.replicas) == int`,
];

describe('the policy CEL environment', () => {
  it.each(TRUE_CASES)('%s', (expr) => {
    expect(run(expr)).toBe(true);
  });

  it('returns lists and strings as CEL values', () => {
    const v = run('object.spec.containers.map(c, c.image.split(":")[1])');
    expect(isCelList(v) && [...v]).toEqual(['1.2.3', 'latest']);
    expect(run('object.metadata.name + "-" + string(object.spec.replicas)')).toBe('web-3');
  });

  it('reports evaluation errors as CelEvalError', () => {
    expect(() => run('object.spec.missing == 1')).toThrow(CelEvalError);
    expect(() => run("quantity('12 Mi')")).toThrow(/quantities must match/);
    expect(() => run("ip('1.2.3')")).toThrow(/parse error/);
    expect(() => run('[].min()')).toThrow(/empty list/);
    expect(() => run("'x'.matches('(')")).toThrow(/invalid regular expression/);
    expect(() => run('optional.none().value()')).toThrow(/dereference/);
    expect(() => run("semver('1.0')")).toThrow(/not a semantic version/);
    expect(() => run("quantity('1.5').asInteger()")).toThrow(/cannot convert value to integer/);
    expect(() => run("url('relative')")).toThrow(/parse error/);
    expect(() => run("cidr('10.0.0.0/33')")).toThrow(/parse error/);
    expect(() => run('[1, "a"].sort()')).toThrow(/no ordering/);
    expect(() => run('["a"].sum()')).toThrow(/sum\(\) needs/);
    expect(() => run('[1, 2].slice(2, 1)')).toThrow(/start after end/);
    expect(() => run("base64.decode('***')")).toThrow(/not base64/);
    expect(() => run('lists.range(-1)')).toThrow(/must not be negative/);
    expect(() => run('1.all(x, true)')).toThrow();
  });

  it('rejects unknown variables and functions when compiling', () => {
    expect(() => compileExpression('objekt.spec', ['object'])).toThrow(/undeclared reference to "objekt"/);
    expect(() => compileExpression('resource.Get("v1", "pods", "x", "y")', ['object'])).toThrow(
      /unknown function resource.Get \(a Kyverno context library/,
    );
    expect(() => compileExpression('object.spec.frobnicate()', ['object'])).toThrow(CelCompileError);
  });

  it('reports syntax errors with the column in the author’s text', () => {
    const columnOf = (source: string): number | undefined => {
      try {
        compileExpression(source, ['object']);
      } catch (error) {
        expect(error).toBeInstanceOf(CelCompileError);
        return (error as CelCompileError).column;
      }
      return undefined;
    };
    const plain = columnOf('object.spec.x == == 1');
    expect(plain).toBeGreaterThan(10);
    expect(columnOf('object.?spec.x == == 1')).toBe((plain as number) + 1);
  });

  it('maps rewritten text back to the original offsets', () => {
    const r = rewriteSource('a.?b + c[?d]');
    expect(r.text).toBe('a.__plumbline_opt_b + c[__plumbline_optindex(d)]');
    expect(r.original(r.text.indexOf('+'))).toBe(5);
    expect(rewriteSource("x ? 'a' : 'b'").text).toBe("x ? 'a' : 'b'");
    expect(rewriteSource("'what?' + `q`").text).toBe("'what?' + `q`");
  });
});

describe('the cost limit', () => {
  const list = Array.from({ length: 200 }, (_, i) => BigInt(i));

  it('stops nested comprehensions over large lists', () => {
    const started = Date.now();
    expect(() => evaluateExpression('l.all(a, l.all(b, l.all(c, a + b + c >= 0)))', { l: list })).toThrow(
      CostLimitError,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops a string that doubles', () => {
    const doubling = Array.from({ length: 40 }, (_, i) => `cel.bind(s${i + 1}, s${i} + s${i}, `).join('');
    const expr = `cel.bind(s0, 'xxxxxxxxxx', ${doubling}size(s40) > 0${')'.repeat(40)})`;
    expect(() => evaluateExpression(expr)).toThrow(/cost limit of 1,000,000 units/);
  });

  it('is not hidden by error absorption in || and &&', () => {
    expect(() =>
      evaluateExpression('l.exists(a, l.exists(b, l.exists(c, false))) || true', { l: list }),
    ).toThrow(CostLimitError);
  });

  it('counts a policy’s expressions against one budget', () => {
    const meter = new CostMeter(1_000_000, 1_500);
    const compiled = compileExpression('l.all(a, l.all(b, true))', ['l']);
    expect(() => compiled.run({ l: list.slice(0, 30) }, meter)).not.toThrow();
    expect(() => compiled.run({ l: list.slice(0, 30) }, meter)).toThrow(/cost budget of 1,500/);
  });

  it('charges regular expressions by the work they do', () => {
    const meter = new CostMeter(1_000, 1_000_000);
    const long = 'a'.repeat(100_000);
    expect(() => compileExpression('s.find("(a|b)*c")', ['s']).run({ s: long }, meter)).toThrow(
      CostLimitError,
    );
  });

  it('lets ordinary policies through well under the limit', () => {
    const meter = new CostMeter();
    compileExpression('object.spec.containers.all(c, !c.image.endsWith(":latest"))', ['object']).run(
      { object },
      meter,
    );
    expect(meter.used).toBeLessThan(100);
  });
});
