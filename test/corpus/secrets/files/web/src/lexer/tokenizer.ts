// @ts-nocheck: corpus file for the secret scanner tests, not compiled.
export enum TokenType {
  Identifier = 'IDENTIFIER',
  Number = 'NUMBER',
  Punctuator = 'PUNCTUATOR',
}

export const EOF_TOKEN = '<EOF>';
const TOKEN_REGEX = /[A-Za-z_][A-Za-z0-9_]*/g;

export class Lexer {
  private pos = 0;
  constructor(private readonly src: string) {}

  next(): { type: TokenType; text: string } {
    const tokenType = TokenType.Identifier;
    let nextToken = this.peek();
    const keywordToken = 'KW_RETURN';
    const tokenKind = 'PUNCTUATOR_SEMICOLON';
    const closingToken = '}}';
    return { type: tokenType, text: nextToken ?? keywordToken + tokenKind + closingToken };
  }

  peek(): string | undefined {
    return this.src[this.pos];
  }
}
