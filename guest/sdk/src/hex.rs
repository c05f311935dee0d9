//! Lowercase hex without `core::fmt` (used in revert messages, where
//! formatting machinery would cost kilobytes of guest code).

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Writes the hex of `bytes` into `out`, which must be `2 * bytes.len()` long.
pub fn encode_into(bytes: &[u8], out: &mut [u8]) {
    for (byte, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lowercase_pairs() {
        let mut out = [0u8; 6];
        super::encode_into(&[0x00, 0xab, 0x7f], &mut out);
        assert_eq!(&out, b"00ab7f");
    }
}
