/** Known-answer vectors of Philox4x32-10 (Random123's kat_vectors), as the issue lists them. */
export const PHILOX_KATS: { counter: number[]; key: number[]; want: string }[] = [
  { counter: [0, 0, 0, 0], key: [0, 0], want: '6627e8d5 e169c58d bc57ac4c 9b00dbd8' },
  { counter: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], key: [0xffffffff, 0xffffffff], want: '408f276d 41c83b0e a20bc7c6 6d5451fd' },
  { counter: [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], key: [0xa4093822, 0x299f31d0], want: 'd16cfe09 94fdcceb 5001e420 24126ea1' },
];
