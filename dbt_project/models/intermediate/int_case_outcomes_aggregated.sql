{#- Every case outcome per arrival cohort and every combination of programme, sex and age band,
    with the margins ('all') that BI tools show as totals: the true values and the number of
    citizens each rests on (base_citizens), before any suppression. Never published.

    Shares are exact: whole numbers of citizens divided and rounded half away from zero in
    integer arithmetic (macros/rounding.sql), so 123 of 240 is 51.3 %, never 51.2.

    Medians are percentile_cont(0.5), taken from each cell's histogram of day counts rather
    than by sorting every citizen once per grouping set: the same values (whole days, or the
    mean of two), in a third of the time on the 10 M-event bench. -#}
{{ config(materialized='table') }}
{%- set outcomes = case_outcomes() -%}
{%- set medians = outcomes | selectattr('kind', 'equalto', 'median') | list -%}
{%- set cell = 'arrival_year, programme, sex, age_band' -%}
{#- Every cell and margin a cohort is shown by: the same for the counts and for the
    organisations, so the two join cell to cell. -#}
{%- set groupings = [
    'programme, sex, age_band', 'programme, sex', 'programme, age_band', 'sex, age_band',
    'programme', 'sex', 'age_band', ''] -%}

with citizen_outcomes as (
    select * from {{ ref('int_citizen_outcomes') }}
),

cells as (
    select
        arrival_year,
        {%- for dimension in cell_dimensions() %}
        case when grouping({{ dimension }}) = 1 then 'all' else {{ dimension }} end as {{ dimension }},
        {%- endfor %}
        {%- for outcome in outcomes %}
        {%- if outcome.kind in ('count', 'organisations') %}
        count(*) as {{ outcome.code }}__base,
        {%- else %}
        count({{ outcome.column }}) as {{ outcome.code }}__base,
        {%- endif %}
        {%- if outcome.kind == 'count' %}
        count(*)::double precision as {{ outcome.code }}__value,
        {%- elif outcome.kind == 'share' %}
        {{ round_half_away_from_zero(
            '100 * count(*) filter (where ' ~ outcome.column ~ ')', 1,
            'count(' ~ outcome.column ~ ')') }} as {{ outcome.code }}__value,
        {%- endif %}
        {%- endfor %}
        max(as_of_date) as as_of_date
    from citizen_outcomes
    group by grouping sets (
        {%- for grouping in groupings %}
        (arrival_year{{ ', ' ~ grouping if grouping }}){{ ',' if not loop.last }}
        {%- endfor %}
    )
),

organisations as (
    -- Volunteer organisations active with the cell's citizens (distinct, so not additive).
    select
        arrival_year,
        {%- for dimension in cell_dimensions() %}
        case when grouping({{ dimension }}) = 1 then 'all' else {{ dimension }} end as {{ dimension }},
        {%- endfor %}
        count(distinct organisation)::double precision as volunteer_organisations__value
    from citizen_outcomes, unnest(volunteer_organisations) as organised(organisation)
    group by grouping sets (
        {%- for grouping in groupings %}
        (arrival_year{{ ', ' ~ grouping if grouping }}){{ ',' if not loop.last }}
        {%- endfor %}
    )
),

median_days as (
    -- Per cell of the finest grouping, median outcome and day count: how many citizens.
    {%- for outcome in medians %}
    select
        {{ cell }},
        '{{ outcome.code }}' as outcome_code,
        {{ outcome.column }} as days,
        count(*) as citizens
    from citizen_outcomes
    where {{ outcome.column }} is not null
    group by {{ cell }}, {{ outcome.column }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

median_histograms as (
    -- The same histograms for every cell and margin.
    select
        arrival_year,
        {%- for dimension in cell_dimensions() %}
        case when grouping({{ dimension }}) = 1 then 'all' else {{ dimension }} end as {{ dimension }},
        {%- endfor %}
        outcome_code,
        days,
        sum(citizens) as citizens
    from median_days
    group by grouping sets (
        {%- for grouping in groupings %}
        (arrival_year, {{ grouping ~ ', ' if grouping }}outcome_code, days){{ ',' if not loop.last }}
        {%- endfor %}
    )
),

median_positions as (
    select
        *,
        sum(citizens) over (
            partition by {{ cell }}, outcome_code
            order by days
            rows between unbounded preceding and current row
        ) as citizens_up_to,
        sum(citizens) over (partition by {{ cell }}, outcome_code) as citizens_in_cell
    from median_histograms
),

medians as (
    -- percentile_cont(0.5): the mean of the values at the 0-based positions floor and ceil of
    -- (n - 1) / 2 (one and the same when n is odd); whole days, so the mean is exact.
    select
        {{ cell }},
        outcome_code,
        (min(days) filter (
            where citizens_up_to > {{ integer_divide('citizens_in_cell - 1', 2) }})
        + min(days) filter (
            where citizens_up_to > {{ integer_divide('citizens_in_cell', 2) }})
        )::double precision / 2 as value
    from median_positions
    group by {{ cell }}, outcome_code
),

valued as (
    select
        cells.*,
        coalesce(organisations.volunteer_organisations__value, 0) as volunteer_organisations__value
    from cells
    left join organisations using (arrival_year, programme, sex, age_band)
),

long as (
    {%- for outcome in outcomes %}
    select
        valued.arrival_year, valued.programme, valued.sex, valued.age_band, valued.as_of_date,
        '{{ outcome.code }}' as outcome_code,
        '{{ outcome.unit }}' as unit,
        '{{ outcome.base_group }}' as base_group,
        {{ outcome.window_days if outcome.window_days is not none else 'null' }}::integer
            as window_days,
        {{ outcome.code }}__base as base_citizens,
        {%- if outcome.kind == 'median' %}
        medians.value
    from valued
    left join medians
        on medians.outcome_code = '{{ outcome.code }}'
        and medians.arrival_year = valued.arrival_year
        and medians.programme = valued.programme
        and medians.sex = valued.sex
        and medians.age_band = valued.age_band
        {%- else %}
        {{ outcome.code }}__value as value
    from valued
        {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select
    arrival_year::integer as arrival_year,
    programme::varchar as programme,
    sex::varchar as sex,
    age_band::varchar as age_band,
    outcome_code::varchar as outcome_code,
    unit::varchar as unit,
    base_group::varchar as base_group,
    window_days,
    -- Too young: the window has not closed for the whole cohort.
    coalesce(not {{ cohort_window_closed('arrival_year', 'window_days', 'as_of_date') }}, false)
        as is_cohort_too_young,
    base_citizens::integer as base_citizens,
    case when base_citizens > 0 then value end as value,
    as_of_date
from long
