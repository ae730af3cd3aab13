"""Reading documents that do not arrive as text: PDF and Word files, pages by link, and feeds.

Run: .venv/bin/python benchmarks/bench_documents.py [--pages 20,200,2000] [--runs 5]
Files are made here (as in the tests): a PDF of N pages of about 40 lines each with a running
header and page numbers, a Word file of 10 paragraphs per "page", an article page and an RSS feed
of 50 entries served on 127.0.0.1. Each figure is the median of --runs, in milliseconds, of the
domain functions the add screen and `counterpoint documents import` call.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import date
from pathlib import Path
from random import Random

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from helpers_documents import make_docx, make_pdf  # noqa: E402
from helpers_web import Route, article_html, web_server  # noqa: E402

from webapp.corpus import feeds, fetching, pdfword  # noqa: E402

SENTENCE = "The council weighed the cost of the harbour wall against the risk of another winter of floods"


def median_ms(work, runs: int) -> float:
    """The median wall time of `work()` over `runs` runs, in milliseconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2] * 1000


WORDS = ("harbour wall council storm tide cost quay flood engineers barrier estuary residents plan risk winter"
         " budget vote study sea street").split()


def pdf_pages(count: int) -> list[list[str]]:
    """Pages as a report prints them: a running header, four paragraphs of nine full lines and a short
    last one, and a page number; the words vary, as prose does, so no body line repeats."""
    random = Random(7)
    pages = []
    for page in range(1, count + 1):
        lines = ["Harbour Review 2025 - Annual report"]
        for _ in range(4):
            lines += [" ".join(random.choice(WORDS) for _ in range(14)) for _ in range(9)]
            lines.append(" ".join(random.choice(WORDS) for _ in range(4)) + ".")
        pages.append(lines + [f"Page {page} of {count}"])
    return pages


def rss(base: str, entries: int) -> bytes:
    """An RSS 2.0 feed whose entries link to pages on `base`."""
    items = "".join(
        f"<item><title>Entry {n}</title><link>{base}/news/{n}</link><pubDate>Tue, 01 Apr 2025 08:00:00 GMT</pubDate>"
        f"<description>{SENTENCE}.</description></item>"
        for n in range(entries)
    )
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>Courier</title>{items}</channel></rss>".encode()


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", default="20,200,2000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"# {date.today()} on {platform.machine()}, Python {platform.python_version()}; median of {args.runs} runs")
    for count in (int(n) for n in args.pages.split(",")):
        pdf = make_pdf(pdf_pages(count), title="Harbour Review", author="Port Authority")
        docx = make_docx([f"{SENTENCE} {n}." for n in range(count * 10)], title="Harbour Review")
        text, _ = pdfword.read_pdf(pdf)
        print(f"PDF  {count:5} pages {len(pdf) / 1e6:6.1f} MB: {median_ms(lambda: pdfword.read_pdf(pdf), args.runs):8.0f} ms"
              f"  ({len(text.split(chr(10) + chr(10))):,} paragraphs; {4 * count:,} printed)")
        print(f"DOCX {count * 10:5} paragraphs {len(docx) / 1e6:4.1f} MB:"
              f" {median_ms(lambda: pdfword.read_docx(docx), args.runs):8.0f} ms")
    with web_server({"/news/harbour-wall": Route(article_html())}) as site:
        routes = {"/feed.xml": Route(rss(site.base, 50), content_type="application/rss+xml")}
        with web_server(routes) as feed_site:
            page_url, feed_url = site.url("/news/harbour-wall"), feed_site.url("/feed.xml")

            def by_link():
                fetching.read_document(fetching.fetch(page_url, allow_private=True))

            def feed_listing():
                feeds.parse_feed(fetching.fetch(feed_url, allow_private=True).data, feed_url)

            print(f"Article by link (fetch + extract + metadata): {median_ms(by_link, args.runs):6.0f} ms")
            print(f"RSS feed of 50 entries (fetch + parse):       {median_ms(feed_listing, args.runs):6.0f} ms")


if __name__ == "__main__":
    main()
