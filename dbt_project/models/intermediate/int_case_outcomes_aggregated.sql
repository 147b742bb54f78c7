{#- Every case outcome per arrival cohort and every combination of programme, sex and age band,
    with the margins ('all') that BI tools show as totals: the true values and the number of
    citizens each rests on (base_citizens), before any suppression. Never published. -#}
{{ config(materialized='table') }}
{%- set windows = case_outcome_windows() -%}
{%- set measures = [
    ('citizens', 'count', 'count(*)', 'count(*)'),
    ('asylum_centre_contact_pct', 'pct', 'count(asylum_centre_contact)', 'round(100 * avg(asylum_centre_contact::integer), 1)'),
    ('days_to_competence_clarification_median', 'days', 'count(days_to_competence_clarification)', 'median(days_to_competence_clarification)'),
    ('days_to_first_internship_median', 'days', 'count(days_to_first_internship)', 'median(days_to_first_internship)'),
    ('internship_within_91_days_pct', 'pct', 'count(internship_within_91_days)', 'round(100 * avg(internship_within_91_days::integer), 1)'),
    ('employed_within_365_days_pct', 'pct', 'count(employed_within_365_days)', 'round(100 * avg(employed_within_365_days::integer), 1)'),
    ('employed_within_1095_days_pct', 'pct', 'count(employed_within_1095_days)', 'round(100 * avg(employed_within_1095_days::integer), 1)'),
    ('danish_exam_within_5_years_pct', 'pct', 'count(danish_exam_within_5_years)', 'round(100 * avg(danish_exam_within_5_years::integer), 1)'),
    ('self_supporting_within_1095_days_pct', 'pct', 'count(self_supporting_within_1095_days)', 'round(100 * avg(self_supporting_within_1095_days::integer), 1)'),
    ('welcome_house_pct', 'pct', 'count(welcome_house)', 'round(100 * avg(welcome_house::integer), 1)'),
] -%}
{#- Every cell and margin a cohort is shown by: the same for the counts and for the
    organisations, so the two join cell to cell. -#}
{%- set groupings = [
    'programme, sex, age_band', 'programme, sex', 'programme, age_band', 'sex, age_band',
    'programme', 'sex', 'age_band', ''] -%}

with outcomes as (
    select * from {{ ref('int_citizen_outcomes') }}
),

cells as (
    select
        arrival_year,
        case when grouping(programme) = 1 then 'all' else programme end as programme,
        case when grouping(sex) = 1 then 'all' else sex end as sex,
        case when grouping(age_band) = 1 then 'all' else age_band end as age_band,
        max(as_of_date) as as_of_date,
        {%- for code, unit, base, value in measures %}
        {{ base }} as {{ code }}__base,
        {{ value }}::double as {{ code }}__value,
        {%- endfor %}
        count(*) filter (where welcome_house) as volunteer_organisations__base
    from outcomes
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
        case when grouping(programme) = 1 then 'all' else programme end as programme,
        case when grouping(sex) = 1 then 'all' else sex end as sex,
        case when grouping(age_band) = 1 then 'all' else age_band end as age_band,
        count(distinct organisation)::double as volunteer_organisations__value
    from outcomes, unnest(volunteer_organisations) as organised(organisation)
    group by grouping sets (
        {%- for grouping in groupings %}
        (arrival_year{{ ', ' ~ grouping if grouping }}){{ ',' if not loop.last }}
        {%- endfor %}
    )
),

long as (
    {%- for code, unit, base, value in measures %}
    select
        arrival_year, programme, sex, age_band, as_of_date,
        '{{ code }}' as outcome_code,
        '{{ unit }}' as unit,
        {{ windows.get(code, 'null') }}::integer as window_days,
        {{ code }}__base as base_citizens,
        {{ code }}__value as value
    from cells
    union all
    {%- endfor %}
    select
        cells.arrival_year, cells.programme, cells.sex, cells.age_band, cells.as_of_date,
        'volunteer_organisations' as outcome_code,
        'count' as unit,
        null::integer as window_days,
        cells.volunteer_organisations__base as base_citizens,
        coalesce(organisations.volunteer_organisations__value, 0) as value
    from cells
    left join organisations using (arrival_year, programme, sex, age_band)
)

select
    arrival_year::integer as arrival_year,
    programme::varchar as programme,
    sex::varchar as sex,
    age_band::varchar as age_band,
    outcome_code::varchar as outcome_code,
    unit::varchar as unit,
    window_days,
    -- Too young: the window has not closed for the whole cohort.
    coalesce(not {{ cohort_window_closed('arrival_year', 'window_days', 'as_of_date') }}, false)
        as is_cohort_too_young,
    base_citizens::integer as base_citizens,
    case when base_citizens > 0 then value end as value,
    as_of_date
from long
