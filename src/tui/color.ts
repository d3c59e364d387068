/**
 * Ink's `color` prop for a colour that may be none. Ink's props are exactly
 * optional: no colour is an absent prop, not `color={undefined}`.
 *
 *   <Text {...colorProp(failed ? 'red' : undefined)}>
 */
export function colorProp(color: string | undefined): { color?: string } {
  return color === undefined ? {} : { color };
}
