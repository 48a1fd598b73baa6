// Tests of the purl builder against the purl spec's encoding and normalization rules.
import { describe, expect, it } from 'vitest';
import { encodePurlComponent, npmPurl, purl } from './purl.js';

describe('purl', () => {
  it('builds npm purls with the scope percent-encoded', () => {
    expect(purl('npm', '@angular', 'animation', '12.3.1')).toBe('pkg:npm/%40angular/animation@12.3.1');
    expect(purl('npm', undefined, 'foobar', '12.3.1')).toBe('pkg:npm/foobar@12.3.1');
    expect(npmPurl('@babel/core', '7.24.0')).toBe('pkg:npm/%40babel/core@7.24.0');
    expect(npmPurl('lodash', undefined)).toBe('pkg:npm/lodash');
  });

  it('applies type-specific normalization', () => {
    expect(purl('NPM', undefined, 'JSONStream', '1.3.5')).toBe('pkg:npm/jsonstream@1.3.5');
    expect(purl('pypi', undefined, 'Django_Rest.Framework', '3.15.1')).toBe(
      'pkg:pypi/django-rest-framework@3.15.1',
    );
    expect(purl('golang', 'github.com/Azure', 'go-sdk', 'v1.0.0')).toBe(
      'pkg:golang/github.com/Azure/go-sdk@v1.0.0',
    );
    expect(purl('maven', 'org.apache.logging.log4j', 'log4j-core', '2.17.1')).toBe(
      'pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1',
    );
  });

  it('percent-encodes everything outside the unreserved set and the colon', () => {
    expect(purl('npm', undefined, 'a', '1.0.0+build.5')).toBe('pkg:npm/a@1.0.0%2Bbuild.5');
    expect(purl('generic', undefined, 'a b', 'v1:2')).toBe('pkg:generic/a%20b@v1:2');
    expect(purl('generic', '/x//y/', '/name/', '1')).toBe('pkg:generic/x/y/name@1');
    expect(purl('generic', undefined, 'a/b', undefined)).toBe('pkg:generic/a%2Fb');
    expect(encodePurlComponent('é@#?&=%')).toBe('%C3%A9%40%23%3F%26%3D%25');
  });

  it('sorts qualifiers by lowercased key, drops empty ones and encodes values', () => {
    expect(
      purl('npm', undefined, 'x', '1.0.0', {
        vcs_url: 'git://host.com/path/to/repo.git@4345abcd34343',
        Arch: 'x86_64',
        empty: '',
        missing: undefined,
      }),
    ).toBe('pkg:npm/x@1.0.0?arch=x86_64&vcs_url=git:%2F%2Fhost.com%2Fpath%2Fto%2Frepo.git%404345abcd34343');
    expect(purl('npm', undefined, 'x', '1', {})).toBe('pkg:npm/x@1');
  });
});
