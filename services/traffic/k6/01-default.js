// An ordinary day at ShopNow: the `default` profile of ../profiles.json (the native generator's too).
// k6 run -e BASE_URL=http://127.0.0.1:8080 01-default.js   (PROFILE=noisy picks another profile)
/* global open, __ENV -- k6 globals */
import { SharedArray } from 'k6/data';
import { enrolUsers, journeyRunner, scenarioOptions } from './lib/shop.js';

const lab = new SharedArray('traffic profiles', () => [JSON.parse(open('../profiles.json'))])[0];
const profile = __ENV.PROFILE || 'default';

export const options = scenarioOptions(lab, profile);
export const setup = enrolUsers;
export default journeyRunner(lab, profile);
