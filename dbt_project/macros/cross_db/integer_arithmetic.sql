{#- The constructs with no spelling common to DuckDB and PostgreSQL, one dispatch macro each
    (docs/postgres.md, "Portable SQL"). Everything else in the models is SQL both engines read
    alike. -#}

{#- An integer wide enough for exact products of counts: DuckDB's 128-bit hugeint; PostgreSQL
    has no 128-bit integer, and its numeric holds any whole number exactly. -#}
{% macro wide_integer(expression) -%}
    {{ return(adapter.dispatch('wide_integer')(expression)) }}
{%- endmacro %}

{% macro duckdb__wide_integer(expression) -%}
    {{ expression }}::hugeint
{%- endmacro %}

{% macro postgres__wide_integer(expression) -%}
    {{ expression }}::numeric
{%- endmacro %}

{#- Integer division of two non-negative whole numbers (the quotient, rounded down): DuckDB's
    // operator; PostgreSQL's / truncates integers but not numerics, whose quotient is div(). -#}
{% macro integer_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('integer_divide')(numerator, denominator)) }}
{%- endmacro %}

{% macro duckdb__integer_divide(numerator, denominator) -%}
    ({{ numerator }}) // ({{ denominator }})
{%- endmacro %}

{% macro postgres__integer_divide(numerator, denominator) -%}
    div({{ numerator }}, {{ denominator }})
{%- endmacro %}
