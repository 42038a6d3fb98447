//! PostgreSQL error positions → byte offsets.

/// Maps PostgreSQL's 1-based CHARACTER position in `statement` to a byte offset.
///
/// Position `count + 1` (PostgreSQL's "at end of input") maps to `statement.len()`;
/// 0 or anything further maps to `None`.
pub fn position_to_byte_offset(statement: &str, position: u32) -> Option<usize> {
    let index = usize::try_from(position).ok()?.checked_sub(1)?;
    match statement.char_indices().nth(index) {
        Some((offset, _)) => Some(offset),
        None if statement.chars().count() == index => Some(statement.len()),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_multibyte() {
        assert_eq!(position_to_byte_offset("select x", 1), Some(0));
        assert_eq!(position_to_byte_offset("select x", 8), Some(7));
        assert_eq!(position_to_byte_offset("select x", 9), Some(8));
        assert_eq!(position_to_byte_offset("select x", 10), None);
        assert_eq!(position_to_byte_offset("select x", 0), None);
        // '한' is 3 bytes; character 10 is the 'x' after "select '한' ".
        let sql = "select '한' x";
        assert_eq!(
            position_to_byte_offset(sql, 12),
            Some(sql.find('x').unwrap())
        );
        assert_eq!(position_to_byte_offset("🦀🦀a", 3), Some(8));
        assert_eq!(position_to_byte_offset("", 1), Some(0));
    }
}
