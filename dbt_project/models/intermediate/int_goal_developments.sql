{#- The barometer's verdict per goal (area), municipality and year, from its indicators'
    development: the verdict more than half of them share (a goal with one indicator follows
    it); a split or a tie is unchanged; null while any indicator of the goal has no verdict
    that year (indicators_with_verdict says how many had one). -#}
with indicators as (
    select * from {{ ref('stg_reference__indicators') }}
),

goals as (
    select area_code, count(*) as indicators_in_goal
    from indicators
    group by area_code
),

verdicts as (
    select
        indicators.area_code,
        statuses.municipality_code,
        statuses.year,
        count(statuses.development) as indicators_with_verdict,
        count(*) filter (where statuses.development = 'positive') as positive,
        count(*) filter (where statuses.development = 'negative') as negative
    from {{ ref('int_target_statuses') }} as statuses
    inner join indicators using (indicator_code)
    group by indicators.area_code, statuses.municipality_code, statuses.year
)

select
    verdicts.area_code,
    verdicts.municipality_code,
    verdicts.year,
    goals.indicators_in_goal,
    verdicts.indicators_with_verdict,
    case
        when verdicts.indicators_with_verdict < goals.indicators_in_goal then null
        when 2 * verdicts.positive > goals.indicators_in_goal then 'positive'
        when 2 * verdicts.negative > goals.indicators_in_goal then 'negative'
        else 'unchanged'
    end as development
from verdicts
inner join goals using (area_code)
