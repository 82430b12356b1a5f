// `node --import` this to register ui-sdk-hooks.mjs (ui-launch's check that demo never loads the AWS SDK).
import {register} from 'node:module';

register(new URL('ui-sdk-hooks.mjs', import.meta.url));
