{#- The one rounding rule of the warehouse: half away from zero, the way Danish statistics
    publish (51.25 -> 51.3, 26.5 -> 27, -26.5 -> -27), computed exactly, never on a binary
    double (whose 51.25 may be 51.2499999... and whose ties differ between engines).

    With a denominator: the ratio expression / denominator of two whole numbers, in integer
    arithmetic (a share of citizens; null when the denominator is 0). Without: the expression as an exact decimal of 9 places
    (a published value, or a difference of published values). The result is a double holding
    the rounded decimal. Both engines round a decimal half away from zero; the integer
    arithmetic is spelled per engine (macros/cross_db/). -#}
{% macro round_half_away_from_zero(expression, digits=0, denominator=none) -%}
{%- if denominator is none -%}
    round(({{ expression }})::decimal(38, 9), {{ digits }})::double precision
{%- else -%}
    (sign({{ expression }}) * sign({{ denominator }})
        * ({{ integer_divide(
            '2 * ' ~ 10 ** digits ~ ' * ' ~ wide_integer('abs(' ~ expression ~ ')')
                ~ ' + abs(' ~ denominator ~ ')',
            '2 * nullif(abs(' ~ denominator ~ '), 0)') }})::double precision / {{ 10 ** digits }})
{%- endif -%}
{%- endmacro %}
