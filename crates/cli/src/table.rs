//! The CLI's plain-text tables (`paddock ls`, `paddock worktree ls`): a header and rows in
//! columns padded to their widest cell, two spaces apart; the last column is left unpadded so
//! a long command or path does not drag trailing blanks.

/// `header` and `rows` as aligned text, one line each, every line ending in `\n`.
pub fn columns<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let last = cells.len().saturating_sub(1);
        for (i, c) in cells.iter().enumerate() {
            if i == last {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        out.push('\n');
    };
    line(&header);
    for r in rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        line(&cells);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_under_the_widest_cell_and_the_last_is_not_padded() {
        let rows = [
            ["a".to_owned(), "wide cell".to_owned(), "x".to_owned()],
            [
                "longer".to_owned(),
                "b".to_owned(),
                "last column".to_owned(),
            ],
        ];
        let text = columns(["ID", "NAME", "PATH"], &rows);
        assert_eq!(
            text,
            "ID      NAME       PATH\n\
             a       wide cell  x\n\
             longer  b          last column\n"
        );
    }

    #[test]
    fn widths_count_characters_not_bytes() {
        let rows = [["·ü".to_owned(), "x".to_owned()]];
        assert_eq!(columns(["A", "B"], &rows), "A   B\n·ü  x\n");
    }
}
