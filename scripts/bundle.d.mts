/** `[_name]:` keys of an AWS SDK schema file whose `_name` is a string constant declared once, written as that literal. */
export function inlineSchemaKeys(text: string): string;
