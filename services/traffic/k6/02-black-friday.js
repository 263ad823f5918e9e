// Black Friday: the same mix at ten times the rate. Does checkout stay inside its SLO?
/* global open -- a k6 global */
import { SharedArray } from 'k6/data';
import { enrolUsers, journeyRunner, scenarioOptions } from './lib/shop.js';

const lab = new SharedArray('traffic profiles', () => [JSON.parse(open('../profiles.json'))])[0];

export const options = scenarioOptions(lab, 'black-friday');
export const setup = enrolUsers;
export default journeyRunner(lab, 'black-friday');
