"""IN-list pages: every value once, in order, no page over the size."""
from hypothesis import given
from hypothesis import strategies as st

from zhicheng.db.batches import in_pages


@given(st.lists(st.integers()), st.integers(1, 50))
def test_pages_cover_the_values_once_in_order(values, size):
    pages = list(in_pages(values, size))
    assert [v for page in pages for v in page] == values
    assert all(0 < len(page) <= size for page in pages)
    assert len(pages) == -(-len(values) // size)
