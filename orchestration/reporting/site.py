"""The index of every municipality's page: a plain list of links, searchable by name or code.

The list is the page: it works without JavaScript, and a few lines of inline script only hide
the entries that do not match what is typed in the search field.
"""

from __future__ import annotations

from orchestration.reporting.data import Published
from orchestration.reporting.page import bi, environment, local_time


def index_page(published: Published, assets_dir: str) -> str:
    return (
        environment()
        .get_template("index.html.j2")
        .render(
            municipalities=published.municipalities.itertuples(),
            data_year=published.data_year,
            published=local_time(published.publication.published_at),
            assets=f"{assets_dir}/",
            bi=bi,
        )
    )
